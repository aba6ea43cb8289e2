"""The origin that links handed to clients start with: ``ATSBRIDGE_PUBLIC_URL``, else the request's own address."""

from __future__ import annotations

from fastapi import Request


def public_base(request: Request) -> str:
    """``https://host[:port]`` without a trailing slash, for links a client will follow (connect, downloads)."""
    configured: str | None = request.app.state.settings.public_url
    return configured or str(request.base_url).rstrip("/")
