"""Configuring an environment's webhook endpoint: in the store, with ``atsbridge webhook``, and over the API."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest.mock import ANY

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from atsbridge.cli import app
from atsbridge.store.api_keys import create_api_key
from atsbridge.store.credentials import CredentialsUnreadable
from atsbridge.store.integrations import ensure_environment
from atsbridge.store.tables import environments
from atsbridge.webhooks.endpoint import InvalidWebhookUrl, WebhookEndpoint, set_webhook, webhook_of
from integration.webhooks.conftest import KEY
from support.api_server import serve_api

BAD_URLS = [
    "",
    "hooks.example.com/kombo",
    "ftp://hooks.example.com/",
    "http://",
    "https://x.example/a b",
    "mailto:a@b",
    "https://x.example/\x00",
    "https://x.example/\ud800",
    "http://127.0.0.1:99999/hook",
    "http://127.0.0.1:0/hook",
    "http://[::1/hook",
    "http://xn--a/hook",
]


def test_secret_is_made_once_kept_and_rotated(engine: Engine) -> None:
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, "acme")
        assert webhook_of(conn, KEY, environment_id) is None
        first = set_webhook(conn, KEY, environment_id, "https://hooks.example.com/a")
        assert set_webhook(conn, KEY, environment_id, "http://127.0.0.1:9000/b") == first
        assert webhook_of(conn, KEY, environment_id) == WebhookEndpoint("http://127.0.0.1:9000/b", first)
        rotated = set_webhook(conn, KEY, environment_id, "http://127.0.0.1:9000/b", rotate_secret=True)
        assert rotated != first
        assert webhook_of(conn, KEY, environment_id) == WebhookEndpoint("http://127.0.0.1:9000/b", rotated)
        stored = conn.execute(select(environments.c.webhook_secret_encrypted)).scalar_one()
        assert rotated.encode() not in stored
        with pytest.raises(LookupError):
            set_webhook(conn, KEY, "nope", "https://hooks.example.com/a")


@pytest.mark.parametrize("url", BAD_URLS)
def test_only_http_and_https_urls_are_accepted(engine: Engine, url: str) -> None:
    with engine.begin() as conn, pytest.raises(InvalidWebhookUrl):
        set_webhook(conn, KEY, ensure_environment(conn, "acme"), url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:99999/hook", "the webhook URL's port must be 1 to 65535, not 99999"),
        ("http://[::1/hook", "the webhook URL's host '[::1' is not valid: an IPv6 address goes in square brackets"),
        ("http://::1/hook", "the webhook URL's host '::1' is not valid: an IPv6 address goes in square brackets"),
    ],
    ids=["port-out-of-range", "ipv6-unclosed", "ipv6-without-brackets"],
)
def test_a_refused_url_is_told_clearly(engine: Engine, url: str, message: str) -> None:
    with engine.begin() as conn, pytest.raises(InvalidWebhookUrl) as refused:
        set_webhook(conn, KEY, ensure_environment(conn, "acme"), url)
    assert str(refused.value).startswith(message)


def test_private_and_loopback_receivers_are_accepted(engine: Engine) -> None:
    """A receiver on the same network is legitimate (unlike attachment ``data_url``s, nothing is refused for it)."""
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, "acme")
        for url in ("http://127.0.0.1:1/h", "http://10.1.2.3:65535/h", "http://[::1]:8080/h", "http://192.168.0.9/h"):
            set_webhook(conn, KEY, environment_id, url)
            assert webhook_of(conn, KEY, environment_id) == WebhookEndpoint(url, ANY)


def test_a_sealed_secret_opens_only_for_its_environment(engine: Engine) -> None:
    with engine.begin() as conn:
        acme, other = ensure_environment(conn, "acme"), ensure_environment(conn, "other")
        set_webhook(conn, KEY, acme, "https://hooks.example.com/a")
        set_webhook(conn, KEY, other, "https://hooks.example.com/b")
        sealed = conn.execute(select(environments.c.webhook_secret_encrypted).where(environments.c.id == acme)).scalar()
        conn.execute(update(environments).where(environments.c.id == other).values(webhook_secret_encrypted=sealed))
        with pytest.raises(InvalidTag):
            webhook_of(conn, KEY, other)


def test_cli_sets_and_shows_the_webhook(engine: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "ATSBRIDGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ATSBRIDGE_SECRET_KEY": KEY.hex(),
        "ATSBRIDGE_DATA_DIR": str(tmp_path),
    }

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["webhook", *args], env=env)
        return result.exit_code, result.stdout

    code, out = run("show", "--environment", "acme", "--json")
    assert (code, json.loads(out)["error"]["code"]) == (1, "ENVIRONMENT_NOT_FOUND")  # showing creates nothing
    code, out = run("set", "--environment", "acme", "--url", "https://hooks.example.com/k", "--json")
    created = json.loads(out)
    assert code == 0
    assert created["url"] == "https://hooks.example.com/k"
    assert created["secret"].startswith("whsec_")
    assert run("show", "--environment", "acme", "--json") == (0, out)
    code, out = run("set", "--environment", "acme", "--url", "https://hooks.example.com/k", "--rotate-secret")
    rotated = out.strip()
    assert code == 0
    assert rotated.startswith("whsec_")
    assert rotated != created["secret"]
    code, out = run("set", "--environment", "acme", "--url", "ftp://hooks.example.com", "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "INPUT_INVALID"
    code, out = run("set", "--environment", "acme", "--url", "http://127.0.0.1:70000/h", "--json")
    assert (code, json.loads(out)["error"]) == (
        1,
        {"code": "INPUT_INVALID", "message": "the webhook URL's port must be 1 to 65535, not 70000"},
    )
    with engine.connect() as conn:
        environment_id = conn.execute(select(environments.c.id).where(environments.c.name == "acme")).scalar_one()
        assert webhook_of(conn, KEY, environment_id) == WebhookEndpoint("https://hooks.example.com/k", rotated)


def test_cli_refuses_a_secret_key_that_cannot_open_the_stored_secrets(engine: Engine, tmp_path: Path) -> None:
    """A secret sealed under another key than the store's would be one no other process could open (events never
    signed, the API's webhook answers failing): nothing is stored."""
    with engine.begin() as conn:
        set_webhook(conn, KEY, ensure_environment(conn, "acme"), "https://hooks.example.com/a")
    env = {
        "ATSBRIDGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ATSBRIDGE_SECRET_KEY": "cd" * 32,
        "ATSBRIDGE_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(
        app, ["webhook", "set", "--environment", "beta", "--url", "https://x.example/h"], env=env
    )
    assert isinstance(result.exception, CredentialsUnreadable)
    assert "webhook secret cannot be decrypted" in str(result.exception)
    with engine.connect() as conn:
        assert conn.execute(select(environments.c.id).where(environments.c.name == "beta")).first() is None


def test_api_sets_and_shows_the_webhook_of_the_keys_environment(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        acme_key = create_api_key(conn, ensure_environment(conn, "acme"))
        other_key = create_api_key(conn, ensure_environment(conn, "other"))
    with serve_api(engine, KEY, tmp_path) as server, httpx.Client(base_url=server.v1, timeout=30) as http:

        def call(method: str, key: str | None, body: object = None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return http.request(method, "/webhook", headers=headers, json=body)

        assert call("GET", acme_key).json() == {"status": "success", "data": {"url": None, "secret": None}}
        created = call("PUT", acme_key, {"url": "https://hooks.example.com/k"})
        assert created.status_code == 200
        data = created.json()["data"]
        assert data["url"] == "https://hooks.example.com/k"
        assert data["secret"].startswith("whsec_")
        assert call("GET", acme_key).json()["data"] == data
        assert call("GET", other_key).json()["data"] == {"url": None, "secret": None}, "one environment per key"
        rotated = call("PUT", acme_key, {"url": "https://hooks.example.com/k", "rotate_secret": True}).json()["data"]
        assert rotated["secret"] != data["secret"]

        for status, key, body in [
            (400, acme_key, {"url": "ftp://hooks.example.com/k"}),
            (400, acme_key, {"url": "https://hooks.example.com/\u0000"}),
            (400, acme_key, {"uri": "https://hooks.example.com/k"}),
            (400, acme_key, {"url": "https://hooks.example.com/k", "rotate_secret": "yes"}),  # would rotate it
            (400, acme_key, {"url": "https://hooks.example.com/k", "rotate_secret": 1}),
            (401, None, {"url": "https://hooks.example.com/k"}),
            (401, "atsb_wrong", None),
        ]:
            response = call("PUT" if body else "GET", key, body)
            assert response.status_code == status
            error = response.json()["error"]
            assert error["code"].startswith("PLATFORM."), error
        lone_surrogate = http.put(  # JSON's escape: no client encodes such a string itself
            "/webhook",
            content='{"url": "https://hooks.example.com/\\ud800"}',
            headers={"Authorization": f"Bearer {acme_key}"},
        )
        assert (lone_surrogate.status_code, lone_surrogate.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")
        for url, message in [
            ("http://127.0.0.1:99999/hook", "port must be 1 to 65535, not 99999"),
            ("http://xn--a/hook", "the webhook URL is not valid"),  # was a 500: idna's error escaped
        ]:
            refused = call("PUT", acme_key, {"url": url})
            assert (refused.status_code, refused.json()["status"]) == (400, "error")
            assert refused.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
            assert message in refused.json()["error"]["message"]
        assert call("GET", acme_key).json()["data"] == rotated


def test_first_time_calls_at_once_hand_out_the_one_secret_kept(engine: Engine) -> None:
    """Two API processes setting an environment's webhook for the first time at once: both answer the secret that
    is stored (before, each made one and the one written first was lost to whoever got it)."""
    with engine.begin() as conn:
        environment_ids = [ensure_environment(conn, f"race-{n}") for n in range(6)]
    start = threading.Barrier(2)

    def first_call(environment_id: str) -> str:
        start.wait()
        with engine.begin() as conn:
            return set_webhook(conn, KEY, environment_id, "https://hooks.example.com/race")

    with ThreadPoolExecutor(2) as pool:
        for environment_id in environment_ids:
            secrets = list(pool.map(first_call, [environment_id] * 2))
            with engine.connect() as conn:
                endpoint = webhook_of(conn, KEY, environment_id)
            assert endpoint is not None and secrets == [endpoint.secret] * 2


def test_another_secret_key_is_a_clear_error_not_a_bare_500(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, "acme")
        api_key = create_api_key(conn, environment_id)
        set_webhook(conn, KEY, environment_id, "https://hooks.example.com/k")
    other_key = bytes(reversed(KEY))
    with serve_api(engine, other_key, tmp_path) as server, httpx.Client(base_url=server.v1, timeout=30) as http:
        headers = {"Authorization": f"Bearer {api_key}"}
        for answer in (
            http.get("/webhook", headers=headers),
            http.put("/webhook", headers=headers, json={"url": "https://hooks.example.com/k"}),
        ):
            error = answer.json()["error"]
            assert (answer.status_code, error["code"]) == (500, "PLATFORM.UNKNOWN_ERROR")
            assert "ATSBRIDGE_SECRET_KEY" in error["message"]


def test_an_environment_made_by_two_processes_at_once_is_one(engine: Engine) -> None:
    """`webhook set --environment NEW` run twice at once on PostgreSQL made two environments of one name."""
    start = threading.Barrier(2)

    def make(name: str) -> str:
        start.wait()
        with engine.begin() as conn:
            return ensure_environment(conn, name)

    with ThreadPoolExecutor(2) as pool:
        for n in range(6):
            ids = list(pool.map(make, [f"made-at-once-{n}"] * 2))
            assert ids[0] == ids[1]
    with engine.connect() as conn:
        names = list(
            conn.execute(select(environments.c.name).where(environments.c.name.like("made-at-once-%"))).scalars()
        )
    assert sorted(names) == [f"made-at-once-{n}" for n in range(6)]
