from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bpmlink.catalog import APPS, App
from bpmlink_api.deps import CurrentActor

router = APIRouter(prefix="/api/v1/apps", tags=["apps"])


class AppList(BaseModel):
    items: list[App]
    next_cursor: str | None = None


@router.get("", operation_id="listApps")
async def list_apps(_: CurrentActor) -> AppList:
    return AppList(items=list(APPS.values()))
