"""`python -m bpmlink_sandbox`: serve the sandbox with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from .app import create_app
from .settings import SandboxSettings


def main() -> None:
    settings = SandboxSettings.from_env()
    logging.basicConfig(level=logging.INFO)
    # No proxy-header middleware: the stand-in is addressed directly, and it costs ~10 µs a request.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False, lifespan="on", proxy_headers=False)


if __name__ == "__main__":
    main()
