"""§2: login, logout, tokens, deactivation and the API-access right."""

from __future__ import annotations

import pytest

from .conftest import FROZEN, USER, USERS, Api, conform, is_ts, parse_ts, ts_add


def test_login_shape(api: Api) -> None:
    result = api.login()
    assert set(result) == {"token", "expiresAt", "user"}
    assert isinstance(result["token"], str)
    assert result["token"]
    assert is_ts(result["expiresAt"])
    assert set(result["user"]) == {"id", "firstName", "lastName", "email"}
    assert result["user"]["email"].lower() == api.login_name.lower()
    user = api.get(USERS, result["user"]["id"])
    assert {k: user[k] for k in ("id", "firstName", "lastName", "email")} == result["user"]
    assert user["active"] is True
    assert user["apiAccess"] is True


def test_token_lives_3600_seconds_on_the_tenant_clock(api: Api) -> None:
    api.freeze(FROZEN)
    result = api.login()
    assert result["expiresAt"] == ts_add(FROZEN, 3600)
    api.token = result["token"]
    api.advance(3599)
    api.call("SystemService.ping")
    api.advance(2)
    assert api.error("SystemService.ping", {}, -32002)["data"] == {"reason": "expired"}


def test_token_expiry_is_about_an_hour_from_now(api: Api) -> None:
    result = api.login()
    delta = parse_ts(result["expiresAt"]) - parse_ts(api.now())
    assert 3590 <= delta.total_seconds() <= 3601


def test_each_login_gives_a_working_token(api: Api) -> None:
    first, second = api.login()["token"], api.login()["token"]
    assert first != second
    for token in (first, second):
        api.call("SystemService.ping", token=token)


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"password": "wrong-password"}, id="wrong-password"),
        pytest.param({"login": "nobody@example.org"}, id="unknown-login"),
    ],
)
def test_login_failed(api: Api, credentials: dict[str, str]) -> None:
    params = {"login": api.login_name, "password": api.password, **credentials}
    api.error("AuthService.login", params, -32001, token=None)


def test_a_password_with_non_ascii_letters_logs_in_and_a_wrong_one_is_refused(api: Api) -> None:
    password = "Příliš-žluťoučký-kůň-1"
    user, _ = api.new_user()
    api.patch("users", user["id"], password=password)
    api.call("SystemService.ping", token=api.login(user["email"], password)["token"])
    api.error("AuthService.login", {"login": user["email"], "password": "Příliš-žluťoučký-kůň-2"}, -32001, token=None)
    api.error("AuthService.login", {"login": api.login_name, "password": "é"}, -32001, token=None)


def test_login_ignores_a_stale_authorization_header(api: Api) -> None:
    assert api.call("AuthService.login", {"login": api.login_name, "password": api.password}, token="bogus")


def test_login_params_are_validated(api: Api) -> None:
    assert api.fields("AuthService.login", {"login": api.login_name}, token=None) == {"password": "required"}
    assert "login" in api.fields("AuthService.login", {"login": 5, "password": api.password}, token=None)


def test_user_without_api_access_cannot_log_in(api: Api) -> None:
    user, password = api.new_user(api_access=False)
    conform(user, USER)
    assert user["apiAccess"] is False
    api.error("AuthService.login", {"login": user["email"], "password": password}, -32003, token=None)


def test_user_created_with_api_access_can_log_in(api: Api) -> None:
    user, password = api.new_user()
    result = api.login(user["email"], password)
    assert result["user"] == {k: user[k] for k in ("id", "firstName", "lastName", "email")}
    api.call("SystemService.ping", token=result["token"])


def test_deactivated_user(api: Api) -> None:
    user, password = api.new_user()
    token = api.login(user["email"], password)["token"]
    assert api.patch("users", user["id"], active=False)["active"] is False
    assert api.error("SystemService.ping", {}, -32002, token=token)["data"] == {"reason": "invalid"}
    api.error("AuthService.login", {"login": user["email"], "password": password}, -32001, token=None)
    assert any(u["id"] == user["id"] and u["active"] is False for u in api.walk(USERS))


def test_user_losing_api_access(api: Api) -> None:
    user, password = api.new_user()
    token = api.login(user["email"], password)["token"]
    api.patch("users", user["id"], apiAccess=False)
    api.error("SystemService.ping", {}, -32003, token=token)
    api.error("JobseekerService.list", {}, -32003, token=token)
    api.error("AuthService.login", {"login": user["email"], "password": password}, -32003, token=None)


def test_logout(api: Api) -> None:
    other = api.login()["token"]
    assert api.call("AuthService.logout", {}) == {"ok": True}
    assert api.error("SystemService.ping", {}, -32002)["data"] == {"reason": "invalid"}
    api.call("SystemService.ping", token=other)  # only the logged-out token stops working


def test_logout_needs_a_token(api: Api) -> None:
    assert api.error("AuthService.logout", {}, -32002, token=None)["data"] == {"reason": "missing"}


def test_tokens_expire_control(api: Api) -> None:
    api.ctl("POST", "/tokens/expire", None, 204)
    assert api.error("SystemService.ping", {}, -32002)["data"] == {"reason": "expired"}
    api.relogin()
    api.call("SystemService.ping")


def test_clock_advance_expires_tokens(api: Api) -> None:
    api.advance(3601)
    assert api.error("JobseekerService.list", {}, -32002)["data"] == {"reason": "expired"}
    api.relogin()
    assert api.call("JobseekerService.list")["items"]


def test_every_method_needs_a_token(api: Api) -> None:
    methods = [
        ("SystemService.ping", {}), ("UserService.list", {}), ("UserService.get", {"id": 1}),
        ("ProjectService.list", {}), ("ProjectService.get", {"id": 1}), ("StageService.list", {}),
        ("TagService.list", {}), ("CodebookService.get", {"name": "countries"}), ("JobseekerService.list", {}),
        ("JobseekerService.get", {"id": 1}), ("JobseekerService.create", {}),
        ("JobseekerService.addTag", {"jobseekerId": 1, "tagId": 1}),
        ("JobseekerService.removeTag", {"jobseekerId": 1, "tagId": 1}), ("ApplicationService.list", {}),
        ("ApplicationService.get", {"id": 1}), ("ApplicationService.create", {}),
        ("AttachmentService.list", {"jobseekerId": 1}), ("AttachmentService.download", {"id": 1}),
    ]  # fmt: skip
    for method, params in methods:
        assert api.error(method, params, -32002, token=None)["data"] == {"reason": "missing"}, method
