"""The test databases of one run: where PostgreSQL is, what this run's databases are called, and
templates built once per run and shared by every xdist worker.

A run has a token (``MARKET_TEST_RUN``, chosen by the controlling pytest process and inherited by
its workers). Every database the run creates on PostgreSQL carries it in its name, so that the
controller drops whatever is left when the run ends; shared files (SQLite templates, the demo's
uploads) live in a folder named after it. A template is built by the first worker that needs it,
under a file lock; the others wait and use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

RUN_ENV = "MARKET_TEST_RUN"
DEFAULT_PG = "postgresql://postgres@localhost:5432/postgres"


def run_token() -> str:
    """This run's token (set by :func:`start_run` in the controlling process)."""
    token = os.environ.get(RUN_ENV)
    if not token:
        token = start_run()
    return token


def start_run() -> str:
    token = uuid.uuid4().hex[:10]
    os.environ[RUN_ENV] = token
    return token


def shared_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"market-tests-{run_token()}"
    folder.mkdir(exist_ok=True)
    return folder


def pg_admin_url() -> str:
    return os.environ.get("MARKET_TEST_DATABASE_URL") or DEFAULT_PG


def pg_url(database: str) -> str:
    return make_url(pg_admin_url()).set(database=database).render_as_string(hide_password=False)


@contextlib.contextmanager
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    conninfo = make_url(pg_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        yield conn


def create_database(name: str, template: str | None = None) -> None:
    """``CREATE DATABASE name [TEMPLATE template]``, retried while another worker's copy of the same
    template holds it for a moment."""
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    for attempt in range(50):
        try:
            with pg_admin() as conn:
                conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 49:
                raise
            time.sleep(0.1)


def drop_database(name: str) -> None:
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Dropping a database makes PostgreSQL take a checkpoint (a second or more on a busy disk): a test's
# database is handed to one background thread per process that drops them one after another, so
# the next test does not wait for it. ``finish_drops`` waits for the queue (a worker's end);
# whatever is left is dropped by the controller's ``end_run``.
_drops: queue.Queue[str | None] = queue.Queue()
_dropper: threading.Thread | None = None


def _drop_forever() -> None:
    while (name := _drops.get()) is not None:
        with contextlib.suppress(psycopg.Error):
            drop_database(name)
        _drops.task_done()
    _drops.task_done()


def drop_database_later(name: str) -> None:
    global _dropper
    if _dropper is None:
        _dropper = threading.Thread(target=_drop_forever, name="drop-test-databases", daemon=True)
        _dropper.start()
    _drops.put(name)


def finish_drops() -> None:
    """Wait until every database handed to :func:`drop_database_later` is dropped."""
    global _dropper
    if _dropper is not None:
        _drops.put(None)
        _drops.join()
        _dropper = None


def shared(name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What ``build`` made, built once per run by whichever process asks first (the others wait)."""
    folder = shared_folder()
    done = folder / f"{name}.json"
    with (folder / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return dict(json.loads(done.read_text()))
        value = build()
        done.write_text(json.dumps(value))
        return value


def end_run() -> None:
    """Drop every PostgreSQL database of this run and its shared folder (the controller calls this
    once every worker has finished)."""
    token = os.environ.get(RUN_ENV)
    if not token:
        return
    with contextlib.suppress(psycopg.OperationalError), pg_admin() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'market\\_%%' AND datname LIKE %s",
                (f"%{token}%",),
            )
        ]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(Path(tempfile.gettempdir()) / f"market-tests-{token}", ignore_errors=True)
