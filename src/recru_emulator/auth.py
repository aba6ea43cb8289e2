"""Authentication (spec §2): login, logout and the bearer-token check every other method goes through."""

from __future__ import annotations

import hmac
from typing import Any

from recru_emulator import params as p
from recru_emulator.errors import LOGIN_FAILED, NO_API_ACCESS, RpcError, token_invalid
from recru_emulator.state import Tenant
from recru_emulator.tenant_data import Record


def user_with_credentials(tenant: Tenant, login_name: Any, password: Any) -> Record | None:
    """The active user whose login and password these are, or ``None``."""
    user = tenant.user_by_login(login_name) if isinstance(login_name, str) else None
    stored = tenant.passwords.get(user["id"]) if user else None
    if user is None or stored is None or not isinstance(password, str) or not user["active"]:
        return None
    # as bytes: compare_digest refuses strings with non-ASCII characters
    return user if hmac.compare_digest(stored.encode(), password.encode()) else None


def login(tenant: Tenant, params: dict[str, Any]) -> dict[str, Any]:
    ch = p.Checker()
    login_name = p.text(params, "login", ch, required=True, max_length=254)
    password = params.get("password")
    if not isinstance(password, str) or not password:
        ch.fail("password", "required" if password in (None, "") else "invalid_type")
    ch.done()
    assert login_name is not None
    assert isinstance(password, str)
    user = user_with_credentials(tenant, login_name, password)
    if user is None:
        raise RpcError(LOGIN_FAILED, message="Wrong login or password, or the user is deactivated")
    if not user["apiAccess"]:
        raise RpcError(NO_API_ACCESS, message="The user does not have the API access right")
    token, expires_at = tenant.issue_token(user["id"])
    return {
        "token": token,
        "expiresAt": expires_at,
        "user": {k: user[k] for k in ("id", "firstName", "lastName", "email")},
    }


def authenticate(tenant: Tenant, authorization: str | None) -> tuple[str, Record]:
    """The token and its user for an ``Authorization`` header, or -32002 / -32003."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise token_invalid("missing")
    entry = tenant.tokens.get(token)
    if entry is None:
        raise token_invalid("invalid")
    if tenant.clock.now() >= entry.expires_at:
        raise token_invalid("expired")
    user = tenant.users.get(entry.user_id)
    if user is None or not user["active"]:
        raise token_invalid("invalid")
    if not user["apiAccess"]:
        raise RpcError(NO_API_ACCESS, message="The user does not have the API access right")
    return token, user


def logout(tenant: Tenant, token: str) -> dict[str, Any]:
    tenant.tokens.pop(token, None)
    return {"ok": True}
