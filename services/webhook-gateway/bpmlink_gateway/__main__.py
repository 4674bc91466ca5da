"""python -m bpmlink_gateway: run the webhook gateway alone (stateless; run as many as needed)."""

import uvicorn

from bpmlink.kit.logs import uvicorn_log_config
from bpmlink.kit.settings import settings_or_exit

from .app import asgi_app


def main() -> None:
    settings = settings_or_exit()
    # uvicorn finishes in-flight requests on SIGTERM before it exits (graceful shutdown).
    uvicorn.run(
        asgi_app(settings),
        host=settings.host,
        port=settings.gateway_port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,  # not uvicorn's default 127.0.0.1
        # Text or JSON, secrets redacted; an accepted webhook's access line only at DEBUG (metrics count them).
        log_config=uvicorn_log_config(settings, quiet_paths=("/hooks/",)),
    )


if __name__ == "__main__":
    main()
