"""python -m bpmlink_api: run the api service alone."""

import uvicorn

from bpmlink.kit.logs import uvicorn_log_config
from bpmlink.kit.settings import settings_or_exit

from .app import asgi_app


def main() -> None:
    settings = settings_or_exit()
    uvicorn.run(
        asgi_app(settings),
        host=settings.host,
        port=settings.api_port,
        proxy_headers=False,  # asgi_app believes X-Forwarded-For only from BPMLINK_TRUSTED_PROXIES
        log_config=uvicorn_log_config(settings),  # text or JSON, secrets redacted
    )


if __name__ == "__main__":
    main()
