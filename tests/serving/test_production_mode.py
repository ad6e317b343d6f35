"""What a server on a network needs: security headers on every answer, the API's documentation for
admins only (production), and client addresses that a client cannot choose."""

import base64
import http.client
import uuid

import pytest
from fastapi.testclient import TestClient

from benchmarks.harness import free_port, start_api
from serving.core.enums import Role
from serving.main import create_app
from tests.serving.conftest import source_key
from tests.serving.core.conftest import PASSWORD, CoreApi

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy",
                    "cache-control")


@pytest.fixture
def production(learnlake_home):
    settings = learnlake_home.model_copy(update={"environment": "production", "public_docs": False,
                                                 "run_committer": False, "ingest_validation_workers": 0})
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield CoreApi(client, settings)


def _basic(email: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_every_answer_carries_the_security_headers(production):
    client = production.client
    learner = production.user(login=True)
    key = source_key(client.app)
    answers = {
        "ok": client.get("/api/v1/users/me", headers=learner.headers),
        "token": client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}),
        "unauthenticated": client.get("/api/v1/courses"),
        "not found": client.get("/nowhere"),
        "invalid": client.post("/api/v1/courses", json={}, headers=learner.headers),
        "malformed": client.post("/api/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}),
        "too large": client.post("/api/v1/auth/login", content=b" " * (9 * 1024 * 1024)),
        "ingest": client.post("/v1/events", json=[], headers={"Authorization": f"Bearer {key}"}),
        "xapi": client.get("/xapi/about"),
        "health": client.get("/health"),
    }
    for name, answer in answers.items():
        for header in SECURITY_HEADERS:
            assert header in answer.headers, f"{name} ({answer.status_code}) lacks {header}"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "max-age" in answer.headers["strict-transport-security"]  # production serves HTTPS only
    assert answers["token"].status_code == 200 and answers["token"].headers["cache-control"] == "no-store"


def test_docs_are_for_admins_in_production(production):
    client = production.client
    admin = production.user(Role.ADMIN, "root", login=True)
    learner = production.user(Role.LEARNER, "ada", login=True)
    for path in ("/docs", "/redoc", "/openapi.json"):
        anonymous = client.get(path)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
        assert client.get(path, headers=learner.headers).status_code == 403
        assert client.get(path, headers=_basic(learner.email, PASSWORD)).status_code == 403
        assert client.get(path, headers=_basic(admin.email, "wrong password")).status_code == 401
        assert client.get(path, headers=admin.headers).status_code == 200
        assert client.get(path, headers=_basic(admin.email, PASSWORD)).status_code == 200
    spec = client.get("/openapi.json", headers=admin.headers).json()
    assert "/v1/events" in spec["paths"] and "/docs" not in spec["paths"]
    docs = client.get("/docs", headers=admin.headers)
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]  # Swagger UI may load


def test_docs_stay_public_in_development_and_can_be_opened_in_production(learnlake_home):
    with TestClient(create_app(learnlake_home.model_copy(update={"run_committer": False}))) as client:
        assert client.get("/openapi.json").status_code == 200 and client.get("/docs").status_code == 200
        assert "strict-transport-security" not in client.get("/health").headers
    opened = learnlake_home.model_copy(update={"environment": "production", "public_docs": True,
                                               "run_committer": False})
    with TestClient(create_app(opened)) as client:
        assert client.get("/openapi.json").status_code == 200


def _sign_in_answers(port: int, forwarded_for: list[str]) -> list[int]:
    answers = []
    for i, address in enumerate(forwarded_for):  # another account each time: only the address limit applies
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        con.request("POST", "/api/v1/auth/login", body=f'{{"email": "nobody{i}@example.org", "password": "guess"}}',
                    headers={"Content-Type": "application/json", "X-Forwarded-For": address})
        answers.append(con.getresponse().status)
        con.close()
    return answers


@pytest.mark.integration
def test_a_rotating_x_forwarded_for_does_not_escape_the_sign_in_limit(learnlake_home):
    # The API as `learnlake serve` starts it (uvicorn, its own process, on loopback), no proxy trusted.
    port = free_port()
    api = start_api(learnlake_home.home, port, env={"LEARNLAKE_RATE_LIMIT_AUTH": "3/minute",
                                                    "LEARNLAKE_RUN_COMMITTER": "false"})
    try:
        answers = _sign_in_answers(port, [f"203.0.113.{i}" for i in range(5)])
    finally:
        api.terminate()
        api.wait(30)
    assert answers == [401, 401, 401, 429, 429]


def test_forwarded_addresses_count_only_from_a_trusted_proxy(learnlake_home):
    def answers(trusted: list[str]) -> list[int]:
        settings = learnlake_home.model_copy(update={"run_committer": False, "rate_limit_auth": "2/minute",
                                                     "trusted_proxies": trusted,
                                                     "jwt_audience": f"aud-{uuid.uuid4()}"})  # fresh counters
        with TestClient(create_app(settings)) as client:  # TestClient's peer is called "testclient"
            return [client.post("/api/v1/auth/login", json={"email": f"nobody{i}@example.org", "password": "guess"},
                                headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(4)]

    assert answers([]) == [401, 401, 429, 429]  # one client, whatever the header says
    assert answers(["testclient"]) == [401, 401, 401, 401]  # behind the trusted proxy: four clients


def test_guesses_at_one_account_meet_a_limit_from_any_number_of_addresses(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "rate_limit_auth": "2/minute",
                                                 "trusted_proxies": ["testclient"]})
    with TestClient(create_app(settings)) as client:
        answers = [client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": f"guess {i}"},
                               headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert answers == [401, 401, 429]
