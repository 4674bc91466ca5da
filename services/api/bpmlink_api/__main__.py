"""python -m bpmlink_api: run the api service alone."""

import uvicorn

from bpmlink.settings import get_settings

from .app import asgi_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(asgi_app(settings), host=settings.host, port=settings.api_port, proxy_headers=True)


if __name__ == "__main__":
    main()
