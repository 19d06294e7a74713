"""The OpenAPI document says what the API really answers: the problem details of every error
(RFC 9457, ``application/problem+json``), downloads as binary content of their real media types,
and no body where there is none (204). The schemathesis run of the tests holds the API to it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPI, OpenAPIFormat, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.routes import HTTPRoute
from pydantic import BaseModel, Field

from market.web.problems import PROBLEM_JSON

# every status the API answers with a problem (a 500 is never documented: it must not happen)
PROBLEM_STATUSES = {
    400: "The request could not be read (malformed body, number or nesting out of range).",
    401: "Not signed in, or the token has expired.",
    403: "Signed in, but the role or organisation may not do this.",
    404: "No such resource (or not visible to this caller).",
    409: "The change conflicts with the current state (a concurrent edit, a duplicate).",
    413: "The body or file is too large.",
    415: "The body's content type is not accepted here.",
    422: "A field is not valid or a rule forbids the change now; `errors` names the fields.",
    429: "Too many requests; `Retry-After` says when to try again.",
}


class ProblemField(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every API error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemField] = Field(default=[], description="the fields at fault, named as the request names them")


def problem_responses() -> dict[int, ResponseSpec]:
    """The problem answers every API operation documents (``responses=`` of a route handler)."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails, media_type=PROBLEM_JSON, description=description, generate_examples=False
        )
        for status, description in PROBLEM_STATUSES.items()
    }


# what a stored file (a licence scan, a qualification, a deliverable) may be
FILE_TYPES = ("application/pdf", "image/png", "image/jpeg")
BINARY_TYPES = ("application/octet-stream", "application/pdf", "application/vnd.openxmlformats")


def _finish(openapi: OpenAPI) -> OpenAPI:
    """Downloads documented as binary (a stored file as each type it may have); no content for a
    204."""
    for path, item in (openapi.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None or not operation.responses:
                continue
            for status, response in operation.responses.items():
                if not isinstance(response, OpenAPIResponse):
                    continue
                if status == "204":
                    response.content = None
                    continue
                if not status.startswith("2") or not response.content:
                    continue
                content: dict[str, Any] = {}
                for media_type, value in response.content.items():
                    if media_type.startswith(BINARY_TYPES):
                        binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
                        if media_type == "application/octet-stream":
                            content.update({kind: binary for kind in FILE_TYPES})
                        content[media_type] = binary
                    else:
                        content[media_type] = value
                response.content = content
    return openapi


class _DocumentedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's document, finished by :func:`_finish` when first built."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        return _finish(super()._build_openapi())


def document_responses(app: Litestar) -> None:
    """Document the problem answers of every API operation of ``app`` (replacing the framework's
    default 400, which is not what the API sends) and finish the document when it is built."""
    responses = problem_responses()
    for route in app.routes:
        if not route.path.startswith("/api/") or not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            handler.responses = {**responses, **(handler.responses or {})}
    app.plugins.get(OpenAPIPlugin).__class__ = _DocumentedOpenAPIPlugin
