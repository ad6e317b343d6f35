"""Registration, sign-in, token refresh and sign-out."""

import time
from datetime import UTC, datetime, timedelta

import jwt
import sqlalchemy as sa

from serving.core.security import issue_access_token
from serving.core.tables import RefreshToken
from tests.serving.core.conftest import PASSWORD


def _register(client, email="ada@example.org", password="a long password"):
    return client.post("/api/v1/auth/register", json={"email": email, "name": "Ada", "password": password})


def test_register_then_sign_in_and_read_me(api):
    created = _register(api.client)
    assert created.status_code == 201
    assert created.json()["role"] == "learner"
    assert "password" not in created.text
    tokens = api.client.post("/api/v1/auth/login", json={"email": "ADA@example.org", "password": "a long password"})
    assert tokens.status_code == 200
    assert tokens.json()["token_type"] == "bearer"
    me = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["email"] == "ada@example.org"


def test_a_second_registration_of_an_email_is_a_conflict(api):
    assert _register(api.client).status_code == 201
    again = _register(api.client, email="Ada@Example.org")
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]


def test_registration_refuses_bad_input_with_reasons(api):
    assert _register(api.client, email="not-an-email").status_code == 422
    short = _register(api.client, password="short")
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"][-1] == "password"
    extra = api.client.post("/api/v1/auth/register", json={"email": "x@example.org", "name": "X",
                                                           "password": "a long password", "role": "admin"})
    assert extra.status_code == 422  # nobody makes themselves an admin


def test_wrong_password_and_unknown_email_get_the_same_answer(api):
    _register(api.client)
    wrong = api.client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": "nope"})
    unknown = api.client.post("/api/v1/auth/login", json={"email": "bob@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_refresh_rotates_and_reuse_of_a_used_token_signs_out_everywhere(api):
    learner = api.user(login=True)
    first = api.client.post("/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token})
    assert first.status_code == 200
    second_refresh = first.json()["refresh_token"]
    assert second_refresh != learner.refresh_token
    replay = api.client.post("/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token})
    assert replay.status_code == 401
    # The replay was theft or a bug: the token handed out after it is revoked as well.
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": second_refresh}).status_code == 401


def test_logout_revokes_the_refresh_token(api):
    learner = api.user(login=True)
    assert api.client.post("/api/v1/auth/logout", json={"refresh_token": learner.refresh_token}).status_code == 204
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token}).status_code == 401


def test_access_tokens_are_checked_for_expiry_issuer_audience_and_signature(api):
    learner = api.user()
    settings = api.settings
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = issue_access_token(learner.id, "learner", settings, now=past)
    other_audience = issue_access_token(learner.id, "learner", settings.model_copy(update={"jwt_audience": "other"}))
    other_issuer = issue_access_token(learner.id, "learner", settings.model_copy(update={"jwt_issuer": "evil"}))
    forged = jwt.encode({"sub": learner.id, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
                         "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)},
                        "x" * 40, algorithm="HS256")
    unsigned = jwt.encode({"sub": learner.id}, None, algorithm="none")
    for token, reason in ((expired, "expired"), (other_audience, "audience"), (other_issuer, "issuer"),
                          (forged, "signature"), (unsigned, "algorithm"), ("garbage", "")):
        response = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, reason
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.client.get("/api/v1/users/me").status_code == 401


def test_a_token_the_api_remembers_as_verified_stops_working_when_it_expires(api):
    learner = api.user()
    ttl = api.settings.access_token_ttl_s
    # A token with five seconds left: verified once, then served from the verifier's memory. (Two
    # seconds, whole seconds in the claim, were once not enough for a first request on a busy machine.)
    token = issue_access_token(learner.id, "learner", api.settings, now=datetime.now(UTC) - timedelta(seconds=ttl - 5))
    headers = {"Authorization": f"Bearer {token}"}
    assert [api.client.get("/api/v1/users/me", headers=headers).status_code for _ in range(2)] == [200, 200]
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires_at - time.time()) + 0.5)
    expired = api.client.get("/api/v1/users/me", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_a_disabled_account_is_signed_out_at_once(api):
    admin, learner = api.user("admin"), api.user()
    assert api.client.patch(f"/api/v1/users/{learner.id}", json={"is_active": False},
                            headers=admin.headers).status_code == 200
    assert api.client.get("/api/v1/users/me", headers=learner.headers).status_code == 401
    login = api.client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD})
    assert login.status_code == 401


def test_a_changed_role_applies_to_the_next_request_with_the_same_token(api):
    admin, user = api.user("admin"), api.user()
    assert api.client.get("/api/v1/users/me", headers=user.headers).json()["role"] == "learner"  # the API keeps it
    assert api.client.post("/api/v1/courses", json={"title": "Mine"}, headers=user.headers).status_code == 403
    assert api.client.patch(f"/api/v1/users/{user.id}", json={"role": "instructor"},
                            headers=admin.headers).status_code == 200
    assert api.client.get("/api/v1/users/me", headers=user.headers).json()["role"] == "instructor"
    assert api.client.post("/api/v1/courses", json={"title": "Mine"}, headers=user.headers).status_code == 201


def test_changing_my_password(api):
    learner = api.user()
    assert api.client.patch("/api/v1/users/me", json={"password": "a brand new password"},
                            headers=learner.headers).status_code == 200
    assert api.client.post("/api/v1/auth/login", json={"email": learner.email,
                                                       "password": PASSWORD}).status_code == 401
    assert api.client.post("/api/v1/auth/login", json={"email": learner.email,
                                                       "password": "a brand new password"}).status_code == 200


def test_expired_refresh_tokens_are_refused_and_purged_at_the_next_sign_in(api):
    learner = api.user(login=True)
    database = api.client.app.state.database
    with database.write() as session:
        session.execute(sa.update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token}).status_code == 401
    assert api.client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}).is_success
    with database.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(RefreshToken)) == 1
