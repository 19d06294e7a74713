"""A real S3 protocol server for the storage tests: moto's server mode (PyPI ``moto[server]``,
``ThreadedMotoServer``), started in-process once per test process on a free local port. Nothing is
downloaded at run time. Each test gets a bucket of its own, so tests never see each other's objects.

The tests that need it are marked ``s3``; they are skipped, saying why, only when the server
cannot start.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ACCESS_KEY_ID = "market-test"
SECRET_ACCESS_KEY = "market-test-secret"  # moto accepts any credentials
_buckets = itertools.count(1)


@dataclass
class S3Server:
    endpoint: str
    server: Any

    def new_bucket(self) -> str:
        import boto3  # moto's own dependency

        name = f"market-docs-{next(_buckets)}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )
        client.create_bucket(Bucket=name)
        return name

    def settings_for(self, bucket: str, prefix: str = "market") -> dict[str, Any]:
        """The settings that point the platform at ``bucket`` (``Settings.with_(**…)``)."""
        return {
            "storage_url": f"s3://{bucket}/{prefix}",
            "s3_endpoint": self.endpoint,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SECRET_ACCESS_KEY,
        }

    def stop(self) -> None:
        self.server.stop()


def start() -> S3Server:
    """moto's S3 server on 127.0.0.1 and a free port (raises when it cannot start)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in the test output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return S3Server(f"http://{host}:{port}", server)
