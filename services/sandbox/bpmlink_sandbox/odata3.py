"""OData 3 placeholder."""

from __future__ import annotations

from typing import Any

from .http import Request, Response


async def handle(state: Any, who: Any, req: Request, root: str, rel: str) -> Response:
    return Response(501, b"", None)
