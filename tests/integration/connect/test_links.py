"""``POST /v1/connect/create-link`` and ``GET /v1/connect/integration-by-token/{token}`` through the official SDK
(which validates every answer against its models) and over plain HTTP for the error envelope."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from kombo.errors import KomboGeneralError
from sqlalchemy import Engine

from atsbridge.store.connect_links import token_hash
from support.connect_flow import ConnectSite, connect_site, token_of


def test_sdk_creates_an_embedded_link_with_its_defaults(site: ConnectSite) -> None:
    link = site.create_link(end_user_origin_id="crm-42")
    token = token_of(link)
    assert link == f"{site.server.url}/connect/{token}"
    assert len(token) >= 43
    stored = site.link(link)
    assert stored.token_hash == token_hash(token) != token
    assert (stored.language, stored.link_type) == ("en", "EMBEDDED")
    assert (stored.end_user_email, stored.end_user_organization_name, stored.end_user_origin_id) == (
        "hr@acme.example",
        "Acme s.r.o.",
        "crm-42",
    )
    assert stored.expires_at - stored.created_at == timedelta(hours=1)
    assert stored.used_at is None and stored.integration_id is None


def test_an_end_user_email_is_kept_trimmed(site: ConnectSite) -> None:
    body = {"end_user_email": " a@b.example\n", "end_user_organization_name": "B"}
    answer = httpx.post(
        f"{site.server.v1}/connect/create-link", json=body, headers={"Authorization": f"Bearer {site.api_key}"}
    )
    assert answer.status_code == 200, answer.text
    assert site.link(answer.json()["data"]["link"]).end_user_email == "a@b.example"


def test_a_blank_origin_id_is_none(site: ConnectSite) -> None:
    """So the API and the events say the same (``null``)."""
    for blank in ("", "   "):
        assert site.link(site.create_link(end_user_origin_id=blank)).end_user_origin_id is None


def test_a_public_url_is_the_origin_of_links(engine: Engine, tmp_path: Path) -> None:
    with connect_site(engine, tmp_path, public_url="https://connect.example.com") as proxied:
        link = proxied.create_link()
    assert link == f"https://connect.example.com/connect/{token_of(link)}"


def test_magic_links_live_a_year_and_keep_their_language(site: ConnectSite) -> None:
    german = site.link(site.create_link(link_type="MAGIC_LINK", language="de", integration_category="ATS"))
    assert german.expires_at - german.created_at == timedelta(days=365)
    assert german.language == "de"
    french = site.link(site.create_link(language="fr", integration_tool="recruhr", enable_static_ips=True))
    assert french.language == "en"  # the page exists in English and German only


def test_every_link_is_new(site: ConnectSite) -> None:
    links = {site.create_link() for _ in range(5)}
    assert len(links) == 5


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"integration_tool": "personio"}, "integration_tool"),
        ({"end_user_email": "not an address"}, "end_user_email"),
        ({"end_user_email": "a b@c.example"}, "end_user_email"),
        ({"end_user_email": "a@b@c.example"}, "end_user_email"),
        ({"end_user_email": "a@b"}, "end_user_email"),
        ({"end_user_email": "a\u200b@b.example"}, "end_user_email"),
        ({"end_user_email": "a" * 250 + "@b.example"}, "end_user_email"),
        ({"end_user_organization_name": ""}, "end_user_organization_name"),
        ({"end_user_organization_name": "   "}, "end_user_organization_name"),
        ({"end_user_organization_name": "\u200b"}, "end_user_organization_name"),
        ({"end_user_organization_name": "Acme\nerror: fake"}, "end_user_organization_name"),
        ({"link_type": "FOREVER"}, "link_type"),
        ({"language": "xx"}, "language"),
        ({"integration_category": "PAYROLL"}, "integration_category"),
        ({"enable_filtering": "yes"}, "enable_filtering"),
        ({"enable_field_mapping": 1}, "enable_field_mapping"),
    ],
)
def test_invalid_bodies_are_platform_input_invalid(site: ConnectSite, body: dict[str, object], wrong: str) -> None:
    full = {"end_user_email": "a@b.example", "end_user_organization_name": "B", **body}
    answer = httpx.post(
        f"{site.server.v1}/connect/create-link", json=full, headers={"Authorization": f"Bearer {site.api_key}"}
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "PLATFORM.INPUT_INVALID"
    assert wrong in error["message"]
    assert set(error) == {"code", "title", "message", "log_url"}


def test_create_link_needs_an_api_key(site: ConnectSite) -> None:
    with pytest.raises(KomboGeneralError) as raised:
        site.sdk(api_key="atsb_wrong").connect.create_connection_link(
            end_user_email="a@b.example", end_user_organization_name="B"
        )
    assert raised.value.data.error.code == "PLATFORM.AUTHENTICATION_INVALID"
    assert raised.value.raw_response.status_code == 401


def test_an_unused_or_unknown_token_names_no_integration(site: ConnectSite) -> None:
    link = site.create_link()
    with site.sdk() as sdk:
        for token in (token_of(link), "no-such-token"):
            with pytest.raises(KomboGeneralError) as raised:
                sdk.connect.get_integration_by_token(token=token)
            assert raised.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"
            assert raised.value.raw_response.status_code == 404
