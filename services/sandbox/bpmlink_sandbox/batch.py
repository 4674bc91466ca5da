"""OData 4 `$batch` (placeholder, replaced below)."""

from __future__ import annotations

from typing import Any

from .http import Request, Response


async def handle_batch(ctx: Any, req: Request) -> Response:
    return Response(501, b"", None)
