"""The dashboards' way to the LearnLake API: sign-in, and reads as the signed-in user.

Dashboards never import the service (import-linter forbids it): they call it over HTTP at
``LEARNLAKE_API_URL``, with the user's own token, so the API's roles decide what a page may show.
"""

from dataclasses import dataclass

import httpx

from learnlake.errors import LearnLakeError
from learnlake.settings import get_settings

TIMEOUT_S = 30.0


class ApiError(LearnLakeError):
    """The API refused (``status`` and its reason) or could not be reached (``status`` 0)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class SignedIn:
    token: str
    user_id: str
    name: str
    email: str
    role: str


def _url(path: str) -> str:
    return f"{get_settings().api_url.rstrip('/')}{path}"


def _answer(response: httpx.Response):
    if response.is_success:
        return response.json() if response.content else None  # 204: nothing to say
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    raise ApiError(response.status_code, detail if isinstance(detail, str) else str(detail))


def _send(method: str, path: str, *, token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, _url(path), headers=headers, timeout=TIMEOUT_S, **kwargs)
    except httpx.HTTPError as exc:
        raise ApiError(0, f"the LearnLake API at {get_settings().api_url} does not answer ({exc}); "
                          "start it with `learnlake serve`") from exc
    return _answer(response)


def sign_in(email: str, password: str) -> SignedIn:
    tokens = _send("POST", "/api/v1/auth/login", json={"email": email, "password": password})
    me = _send("GET", "/api/v1/users/me", token=tokens["access_token"])
    return SignedIn(tokens["access_token"], me["id"], me["name"], me["email"], me["role"])


def get(path: str, token: str, **params):
    """GET with a signed-in user's token; ApiError with the API's reason when it refuses."""
    return _send("GET", path, token=token, params={k: v for k, v in params.items() if v is not None})


def post(path: str, token: str, body: dict):
    return _send("POST", path, token=token, json=body)


def put(path: str, token: str, body: dict):
    return _send("PUT", path, token=token, json=body)


def delete(path: str, token: str) -> None:
    _send("DELETE", path, token=token)
