from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bpmlink.db.models import UserSession
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import request_language
from bpmlink_api.deps import CSRF_COOKIE, SESSION_COOKIE, Context, CurrentActor, RedisDep, SessionDep, SettingsDep
from bpmlink_api.invitations import service as invitations
from bpmlink_api.invitations.schemas import InvitationAcceptIn, InvitationPreviewOut

from . import service
from .schemas import (
    AuthConfigOut,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    PasswordForgotIn,
    PasswordForgotOut,
    PasswordResetIn,
    ProfileIn,
    SignupIn,
    SignupOut,
    SwitchIn,
    TokenIn,
    TokenPath,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_session_cookies(response: Response, settings: Settings, token: str, user_session: UserSession) -> None:
    max_age = settings.session_ttl_hours * 3600
    secure = settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    # Readable by the SPA, which echoes it in X-CSRF-Token on every write.
    response.set_cookie(
        CSRF_COOKIE, user_session.csrf_token, max_age=max_age, httponly=False, samesite="lax", secure=secure
    )


@router.get("/config", operation_id="getAuthConfig")
async def auth_config(settings: SettingsDep) -> AuthConfigOut:
    return service.auth_config(settings)


@router.post("/login", operation_id="login")
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> MeOut:
    token, user_session = await service.login(
        session,
        redis,
        settings,
        email=body.email,
        password=body.password,
        workspace_id=body.workspace_id,
        client_ip=_client_ip(request),
        browser_language=body.language,
        browser_timezone=body.timezone,
    )
    _set_session_cookies(response, settings, token, user_session)
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


@router.post("/signup", operation_id="signup", status_code=201)
async def signup(
    body: SignupIn, request: Request, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> SignupOut:
    return await service.signup(session, redis, settings, body, _client_ip(request), request_language(request))


@router.post("/confirm", operation_id="confirmEmail")
async def confirm(body: TokenIn, response: Response, session: SessionDep, settings: SettingsDep) -> MeOut:
    token, user_session = await service.confirm(session, settings, body.token)
    _set_session_cookies(response, settings, token, user_session)
    return await service.me(session, user_session.user_id, user_session.workspace_id)


@router.post("/password/forgot", operation_id="forgotPassword", status_code=202)
async def forgot_password(
    body: PasswordForgotIn, request: Request, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> PasswordForgotOut:
    return await service.forgot_password(
        session, redis, settings, body.email, _client_ip(request), request_language(request)
    )


@router.post("/password/reset", operation_id="resetPassword", status_code=204)
async def reset_password(
    body: PasswordResetIn, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> Response:
    await service.reset_password(
        session, redis, settings, body.token, body.password, revoke_api_keys=body.revoke_api_keys
    )
    return Response(status_code=204)


@router.post("/password/change", operation_id="changePassword", status_code=204)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    ctx: Context,
) -> Response:
    await service.change_password(
        ctx,
        current_password=body.current_password,
        new_password=body.new_password,
        client_ip=_client_ip(request),
    )
    return Response(status_code=204)


@router.patch("/profile", operation_id="updateProfile")
async def update_profile(body: ProfileIn, ctx: Context) -> MeOut:
    return await service.update_profile(ctx, body)


@router.post("/switch", operation_id="switchWorkspace")
async def switch_workspace(body: SwitchIn, ctx: Context) -> MeOut:
    return await service.switch_workspace(ctx, body.workspace_id)


@router.get("/invitations/{token}", operation_id="getInvitation")
async def invitation_preview(token: TokenPath, session: SessionDep) -> InvitationPreviewOut:
    return await invitations.preview(session, token)


@router.post("/invitations/{token}/accept", operation_id="acceptInvitation")
async def accept_invitation(
    token: TokenPath,
    body: InvitationAcceptIn,
    request: Request,
    response: Response,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> MeOut:
    session_token, user_session = await invitations.accept(
        session, redis, settings, token, body, client_ip=_client_ip(request)
    )
    _set_session_cookies(response, settings, session_token, user_session)
    return await service.me(session, user_session.user_id, user_session.workspace_id)
