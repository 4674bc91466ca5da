from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bpmlink_api.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentActor, RedisDep, SessionDep, SettingsDep

from . import service
from .schemas import LoginIn, MeOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", operation_id="login")
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> MeOut:
    client_ip = request.client.host if request.client else "unknown"
    token, user_session = await service.login(
        session,
        redis,
        settings,
        email=body.email,
        password=body.password,
        workspace_id=body.workspace_id,
        client_ip=client_ip,
    )
    max_age = settings.session_ttl_hours * 3600
    secure = settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    # Readable by the SPA, which echoes it in X-CSRF-Token on every write.
    response.set_cookie(
        CSRF_COOKIE, user_session.csrf_token, max_age=max_age, httponly=False, samesite="lax", secure=secure
    )
    return await service.me(session, user_session.user_id, user_session.workspace_id)


@router.post("/logout", operation_id="logout", status_code=204)
async def logout(actor: CurrentActor, session: SessionDep, response: Response) -> Response:
    if actor.session_token_hash:
        await service.logout(session, actor.session_token_hash)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", operation_id="me")
async def me(actor: CurrentActor, session: SessionDep) -> MeOut:
    return await service.me(session, actor.user_id, actor.workspace_id)
