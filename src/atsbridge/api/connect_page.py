"""Rendering the hosted connect page: Jinja2 templates (autoescaped), the page's language, the form's CSRF token
and the headers every page goes out with.

- **Language**: ``?lang=en|de`` if given, else the link's language, else English.
- **CSRF**: the form carries ``<issued>.<mac>``, an HMAC (key derived from the app's secret) over the link's token
  digest and the issue time, valid for ``CSRF_LIFETIME``: a form is accepted only for the link it was rendered for.
  A browser's ``Sec-Fetch-Site: cross-site`` is refused as well. No cookie is needed, so the page also works inside
  a third-party iframe (the EMBEDDED flow), where browsers drop cookies.
- **Headers**: ``no-store`` (the page holds a secret link and form data), ``Referrer-Policy: no-referrer`` (the
  link's token is in the URL), and a Content-Security-Policy that allows only this response's inline style and
  script (by nonce), and fetches (the status page's updates) and form posts to this origin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from atsbridge.api.connect_texts import TEXTS
from atsbridge.connectors.recru.guide import DEFAULT_LANGUAGE, LANGUAGES, Language, language_of
from atsbridge.store.connect_links import token_hash

CSRF_LIFETIME = timedelta(hours=24)
MAX_FORM_BYTES = 16 * 1024

_templates = Environment(
    loader=PackageLoader("atsbridge.api", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_language(link_language: str | None, requested: str | None) -> Language:
    return language_of(requested) or language_of(link_language) or DEFAULT_LANGUAGE


def other_language(language: Language) -> Language:
    """The language the page's switch link offers."""
    return next(code for code in LANGUAGES if code != language)


def render(template: str, language: Language, *, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` in ``language``, with ``texts`` (the page's words), ``lang`` and the CSP ``nonce`` at hand."""
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template(template).render(
        lang=language, other_lang=other_language(language), texts=TEXTS[language], nonce=nonce, **context
    )
    return HTMLResponse(html, status_code=status, headers=_headers(nonce))


def _headers(nonce: str) -> dict[str, str]:
    policy = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'"
    )
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _csrf_mac(secret: bytes, link_token: str, issued: int) -> str:
    key = hmac.new(secret, b"atsbridge connect form", hashlib.sha256).digest()
    return _b64(hmac.new(key, f"{token_hash(link_token)}|{issued}".encode(), hashlib.sha256).digest())


def csrf_token(secret: bytes, link_token: str, now: float) -> str:
    issued = int(now)
    return f"{issued}.{_csrf_mac(secret, link_token, issued)}"


def csrf_valid(secret: bytes, link_token: str, value: str, now: float) -> bool:
    issued, _, mac = value.partition(".")
    if not issued.isdigit():
        return False
    expected = _csrf_mac(secret, link_token, int(issued))
    return (
        hmac.compare_digest(mac.encode(), expected.encode()) and 0 <= now - int(issued) <= CSRF_LIFETIME.total_seconds()
    )


def form_accepted(request: Request, secret: bytes, link_token: str, form: Mapping[str, str]) -> bool:
    """The form was rendered for this link, recently, and a browser does not say it came from another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    return csrf_valid(secret, link_token, form.get("csrf", ""), time.time())


async def read_form(request: Request) -> Mapping[str, str] | None:
    """The fields of an ``application/x-www-form-urlencoded`` body (first value of each); None if the body is not
    one, or too large."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in parsed.items()}
