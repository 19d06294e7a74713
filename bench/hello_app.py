"""A bare Litestar hello-world, the baseline of ``serve_bench.py`` (served the same way as the
app: uvicorn, one process, access log at info, no server header)."""

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar([hello])
