"""``/api/v1/auth``: register, sign in, refresh, sign out."""

import hashlib
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from serving.api.auth import enforce_rate_limit, limit_sign_in
from serving.api.deps import DatabaseDep, OutboxDep, SettingsDep
from serving.api.responses import documented
from serving.api.schemas import LoginBody, RefreshBody, RegisterAck, RegisterBody, TokenPair
from serving.core.enums import Role
from serving.core.rate_limits import EndpointClass
from serving.core.security import (
    hash_password,
    issue_access_token,
    new_refresh_token,
    refresh_token_hash,
    verify_password,
)
from serving.core.tables import RefreshToken, User
from serving.core.users import register_user

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], dependencies=[Depends(limit_sign_in)],
                   responses=documented(413, 429))


REGISTERED = ("If this e-mail was not registered yet, the learner account is ready: sign in with it. "
              "If it was, nothing changed.")


@router.post("/register", status_code=202)
def register(body: RegisterBody, database: DatabaseDep, outbox: OutboxDep) -> RegisterAck:
    """Create a learner account (other roles are given by an admin).

    The answer, and the time it takes (the password is hashed either way), are the same whether or
    not the e-mail had an account: registration tells no one who uses the platform.
    """
    password_hash = hash_password(body.password)
    try:
        with database.write() as session:
            register_user(session, outbox, email=body.email, name=body.name, role=Role.LEARNER,
                          password_hash=password_hash)
    except IntegrityError:
        pass  # taken: the same answer as for a new account
    return RegisterAck(detail=REGISTERED)


@router.post("/login", response_model=TokenPair, responses={401: {"description": "Wrong e-mail or password"}})
def login(request: Request, body: LoginBody, database: DatabaseDep, settings: SettingsDep) -> TokenPair:
    # Per account as well as per address: guesses spread over many addresses still meet a limit.
    enforce_rate_limit(request, EndpointClass.AUTH, f"login:{hashlib.sha256(body.email.encode()).hexdigest()}")
    with database.read() as session:
        user = session.scalar(select(User).where(User.email == body.email.lower()))
    # Verify outside any transaction: argon2 takes tens of milliseconds on purpose.
    if not verify_password(body.password, user.password_hash if user else None) or not user.is_active:
        raise HTTPException(401, "wrong e-mail or password", headers={"WWW-Authenticate": "Bearer"})
    with database.write() as session:
        return _issue_tokens(session, user, settings)


@router.post("/refresh", response_model=TokenPair, responses={401: {"description": "Unknown or used token"}})
def refresh(body: RefreshBody, database: DatabaseDep, settings: SettingsDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    now = datetime.now(UTC)
    with database.write() as session:
        token = session.scalar(select(RefreshToken).where(
            RefreshToken.token_hash == refresh_token_hash(body.refresh_token)).with_for_update())
        if token is not None and token.revoked_at is not None:
            # A rotated token came back: someone else holds a copy. Sign that user out everywhere.
            session.execute(update(RefreshToken).where(RefreshToken.user_id == token.user_id,
                                                       RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
        user = session.get(User, token.user_id) if token is not None else None
        if token is None or token.revoked_at is not None or token.expires_at <= now or not user or not user.is_active:
            invalid = True
        else:
            invalid = False
            token.revoked_at = now
            pair = _issue_tokens(session, user, settings)
    if invalid:
        raise HTTPException(401, "this refresh token is unknown, expired or already used; sign in again")
    return pair


@router.post("/logout", status_code=204, response_class=Response)
def logout(body: RefreshBody, database: DatabaseDep) -> Response:
    """Revoke a refresh token (access tokens expire on their own within minutes)."""
    with database.write() as session:
        session.execute(update(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(body.refresh_token),
                                                   RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(UTC)))
    return Response(status_code=204)


def _issue_tokens(session, user: User, settings) -> TokenPair:
    now = datetime.now(UTC)
    # Expired tokens of this user can go: nobody can use them, and reuse detection needs only live ones.
    session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.expires_at < now))
    token, token_hash = new_refresh_token()
    session.add(RefreshToken(user_id=user.id, token_hash=token_hash,
                             expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s)))
    return TokenPair(access_token=issue_access_token(user.id, user.role, settings, token_version=user.token_version),
                     refresh_token=token,
                     expires_in=settings.access_token_ttl_s)
