"""Checking RECRU credentials before anything is saved (the connect page and ``atsbridge integration create``).

``tenant_url`` turns what a customer types into the tenant's base URL: ``acme``, ``acme.recru.eu`` and
``https://acme.recru.eu/anything`` all become ``https://acme.recru.eu``. Any other address (plain http, another
domain, a port, loopback: the bundled emulator) is accepted only with ``allow_custom=True``, because the check
then sends a request to whatever address was typed in.

``check_credentials`` logs in for real (``AuthService.login``), calls ``SystemService.ping`` and logs out. Every
failure is raised as ``CredentialsRefused`` carrying one ``CredentialProblem``, which the callers turn into a
message (``guide.problem_message``): a wrong login or password, a user without the API-access right, a tenant that
cannot be reached, an address that answers but is not RECRU, or RECRU being temporarily unavailable.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

from atsbridge.connectors.recru.client import RecruClient, RetryPolicy
from atsbridge.connectors.recru.errors import (
    RecruAccessDenied,
    RecruError,
    RecruInvalidParams,
    RecruLoginFailed,
    RecruRateLimited,
    RecruRpcError,
    RecruUnavailable,
)
from atsbridge.store.credentials import RecruCredentials

TENANT_DOMAIN = "recru.eu"
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

CHECK_RETRY = RetryPolicy(max_attempts=2, max_rate_limited=2, backoff_base=0.25, backoff_cap=1.0, max_retry_after=5.0)
"""A person is waiting on the form: one retry of a transient failure, never a long wait."""
CHECK_CONNECT_TIMEOUT = 5.0
CHECK_READ_TIMEOUT = 20.0


class CredentialProblem(StrEnum):
    """Why credentials were not accepted; the value doubles as the CLI's error code."""

    INVALID_TENANT = "INVALID_TENANT"
    LOGIN_FAILED = "LOGIN_FAILED"
    NO_API_ACCESS = "NO_API_ACCESS"
    UNREACHABLE = "UNREACHABLE"
    NOT_RECRU = "NOT_RECRU"
    UNAVAILABLE = "UNAVAILABLE"


class CredentialsRefused(Exception):
    """The credentials (or the tenant address) cannot be used; ``detail`` is for logs, not for end users."""

    def __init__(self, problem: CredentialProblem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail


def tenant_url(text: str, *, allow_custom: bool = False) -> str:
    """The tenant's base URL (scheme and host, no path) for a subdomain, a host or a URL typed by a person."""
    value = text.strip()
    has_scheme = "://" in value
    try:  # urlsplit refuses an unclosed bracket ("acme[", "http://[::1"), .port a port out of range
        parts = urlsplit(value if has_scheme else f"https://{value}")
        port = parts.port
    except ValueError as error:
        raise _invalid(text) from error
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not _valid_host(host):
        raise _invalid(text)
    subdomain = host.removesuffix("." + TENANT_DOMAIN)
    recru_host = host != subdomain or not (has_scheme or "." in host or port is not None)
    if recru_host and port is None and _SUBDOMAIN.fullmatch(subdomain):
        return f"https://{subdomain}.{TENANT_DOMAIN}"
    if allow_custom and not recru_host:
        netloc = f"[{host}]" if ":" in host else host
        return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "")
    raise _invalid(text)


def _valid_host(host: str) -> bool:
    """A DNS name (labels of letters, digits and hyphens, the last one not all digits: ``256.256.256.256`` is a
    broken IP address, not a name) or an IP address."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        return bool(host) and all(_SUBDOMAIN.fullmatch(label) for label in labels) and not labels[-1].isdigit()
    return True


def _invalid(text: str) -> CredentialsRefused:
    return CredentialsRefused(CredentialProblem.INVALID_TENANT, f"not a RECRU tenant address: {text!r}")


async def check_credentials(
    base_url: str, credentials: RecruCredentials, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """Log in, ping and log out with these credentials; returns the API user, or raises ``CredentialsRefused``."""
    try:
        async with RecruClient(
            base_url,
            credentials.login,
            credentials.password,
            retry=CHECK_RETRY,
            connect_timeout=CHECK_CONNECT_TIMEOUT,
            read_timeout=CHECK_READ_TIMEOUT,
            transport=transport,
        ) as client:
            user = await client.login()
            await client.ping()
            with contextlib.suppress(RecruError):
                await client.logout()
            return user
    except (ValueError, httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
        raise CredentialsRefused(CredentialProblem.INVALID_TENANT, str(error)) from error
    except RecruError as error:
        raise CredentialsRefused(classify(error), str(error)) from error


def classify(error: RecruError) -> CredentialProblem:
    """The problem a failed login or ping stands for."""
    if isinstance(error, RecruLoginFailed | RecruInvalidParams):  # invalid params: a login too long, no password
        return CredentialProblem.LOGIN_FAILED
    if isinstance(error, RecruAccessDenied):
        return CredentialProblem.NO_API_ACCESS
    if isinstance(error, RecruRateLimited):
        return CredentialProblem.UNAVAILABLE
    if isinstance(error, RecruUnavailable):
        if isinstance(error.cause, httpx.TransportError):
            return CredentialProblem.UNREACHABLE
        if isinstance(error.cause, RecruRpcError):  # RECRU's own 500 or maintenance answer
            return CredentialProblem.UNAVAILABLE
    return CredentialProblem.NOT_RECRU  # an answer that is no RECRU JSON-RPC, or an RPC error RECRU would not give
