"""The challenge app with a jets folder, served by uvicorn in a thread on a free loopback port (tests of /data/)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from local_services import LOOPBACK, free_port

from keraslab.challenge.server import create_app


@contextlib.contextmanager
def serving_data(db: str, data: Path | None) -> Iterator[str]:
    """Yield the URL of ``create_app(db, data)`` running until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db, data), host=LOOPBACK, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the data server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
