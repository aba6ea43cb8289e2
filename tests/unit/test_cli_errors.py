"""Configuration and store problems the CLI meets before it can do anything: one line on stderr, exit 1, no
traceback and nothing written."""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from atsbridge.config import Settings
from atsbridge.demo import DEMO_MARKER, DemoError, clear_store, demo_settings, ensure_free
from atsbridge.store.api_keys import environment_of_key
from atsbridge.store.db import create_engine, head_revision, migrate
from support.closed_stdout import run_with_unwritable_stdout
from support.emulator_process import free_port


def atsbridge(tmp_path: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")}
    environment = {**inherited, "ATSBRIDGE_DATA_DIR": str(tmp_path / "data"), "ATSBRIDGE_DATABASE_URL": "", **env}
    command = [sys.executable, "-m", "atsbridge.cli", *args]
    return subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_version_is_printed_without_touching_the_store(tmp_path: Path) -> None:
    result = atsbridge(tmp_path, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, "atsbridge 0.1.0\n", "")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ATSBRIDGE_PORT": "99999"}, ("ATSBRIDGE_PORT",)),
        ({"ATSBRIDGE_FULL_SYNC_EVERY_HOURS": "-1"}, ("ATSBRIDGE_FULL_SYNC_EVERY_HOURS",)),
        ({"ATSBRIDGE_DELTA_SYNC_EVERY_MINUTES": "0"}, ("ATSBRIDGE_DELTA_SYNC_EVERY_MINUTES",)),
        ({"ATSBRIDGE_FULL_SYNC_EVERY_HOURS": "inf"}, ("ATSBRIDGE_FULL_SYNC_EVERY_HOURS",)),
        ({"ATSBRIDGE_DELTA_SYNC_EVERY_MINUTES": "1e11"}, ("ATSBRIDGE_DELTA_SYNC_EVERY_MINUTES",)),
        ({"ATSBRIDGE_SYNC_RUNNER": "queue"}, ("ATSBRIDGE_SYNC_RUNNER", "postgresql")),
        ({"ATSBRIDGE_DATABASE_URL": "garbage"}, ("store",)),
        ({"ATSBRIDGE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, ("store", "refused")),
        ({"ATSBRIDGE_DATABASE_URL": "mysql://nobody@127.0.0.1/x"}, ("store", "mysql", "not supported")),
        ({"ATSBRIDGE_HOST": ""}, ("ATSBRIDGE_HOST",)),
        ({"ATSBRIDGE_HOST": "   "}, ("ATSBRIDGE_HOST",)),
        ({"ATSBRIDGE_PUBLIC_URL": "https://ats.example.com/api"}, ("ATSBRIDGE_PUBLIC_URL", "without a path")),
        ({"ATSBRIDGE_PUBLIC_URL": "ats.example.com"}, ("ATSBRIDGE_PUBLIC_URL",)),
        ({"ATSBRIDGE_PUBLIC_URL": "https://ats.example.com:70000"}, ("ATSBRIDGE_PUBLIC_URL",)),
        ({"ATSBRIDGE_PUBLIC_URL": "https://ats.example.com?"}, ("ATSBRIDGE_PUBLIC_URL",)),
        ({"ATSBRIDGE_PUBLIC_URL": "https://\udcffx.example"}, ("ATSBRIDGE_PUBLIC_URL", "not UTF-8")),
        (
            {"ATSBRIDGE_DATA_URL_ALLOWLIST": "files.example.com,not a host!!"},
            ("ATSBRIDGE_DATA_URL_ALLOWLIST", "'not a host!!'"),
        ),
        (
            {"ATSBRIDGE_DATA_URL_ALLOWLIST": "10.0.0.0/8, 300.1.1.1/99"},
            ("ATSBRIDGE_DATA_URL_ALLOWLIST", "300.1.1.1/99"),
        ),
        ({"ATSBRIDGE_DATA_URL_ALLOWLIST": "files.internal,10.0.0"}, ("ATSBRIDGE_DATA_URL_ALLOWLIST", "'10.0.0'")),
        ({"ATSBRIDGE_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:abc/x"}, ("ATSBRIDGE_DATABASE_URL", "URL")),
        ({"ATSBRIDGE_DATABASE_URL": "postgresql://u@[::1/x"}, ("ATSBRIDGE_DATABASE_URL",)),
        ({"ATSBRIDGE_DATABASE_URL": "sqlite://"}, ("ATSBRIDGE_DATABASE_URL", "in-memory")),
        ({"ATSBRIDGE_DATABASE_URL": "sqlite:///:memory:"}, ("ATSBRIDGE_DATABASE_URL", "in-memory")),
    ],
    ids=[
        "port",
        "full cadence",
        "delta cadence",
        "full cadence endless",
        "delta cadence past any date",
        "queue on SQLite",
        "bad URL",
        "unreachable database",
        "MySQL",
        "host",
        "blank host",
        "public URL with a path",
        "public URL without a scheme",
        "public URL with a bad port",
        "public URL with an empty query",
        "public URL not UTF-8",
        "allowlist entry no host has",
        "allowlist network out of range",
        "allowlist address mistyped",
        "port no number",
        "host unclosed",
        "in-memory SQLite",
        "in-memory SQLite named",
    ],
)
def test_a_setting_the_store_cannot_work_with_is_one_line(
    tmp_path: Path, env: dict[str, str], words: tuple[str, ...]
) -> None:
    assert_one_line_error(atsbridge(tmp_path, "migrate", **env), *words)


@pytest.mark.parametrize("command", [["env", "list"], ["env", "list", "--json"]])
def test_a_dotenv_file_that_is_not_utf8_is_one_line(tmp_path: Path, command: list[str]) -> None:
    """A .env saved by an editor in Latin-1 made every command end in a traceback (nothing on stdout with --json)."""
    (tmp_path / ".env").write_bytes(b"ATSBRIDGE_PORT=8001\n# caf\xe9\n")
    result = atsbridge(tmp_path, *command, cwd=tmp_path)
    assert_one_line_error(result, ".env", "not UTF-8")
    if "--json" in command:
        assert json.loads(result.stdout)["error"]["code"] == "CONFIGURATION_INVALID"


def test_a_data_dir_set_empty_is_the_default_one(tmp_path: Path) -> None:
    """``ATSBRIDGE_DATA_DIR=`` put the store in the current directory itself."""
    result = atsbridge(tmp_path, "env", "create", "acme", cwd=tmp_path, ATSBRIDGE_DATA_DIR="")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".atsbridge" / "atsbridge.sqlite3").exists()
    assert not (tmp_path / "atsbridge.sqlite3").exists()


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    assert_one_line_error(
        atsbridge(tmp_path, "migrate", ATSBRIDGE_DATA_DIR=str(tmp_path / "afile")), "afile", "not a directory"
    )
    inside_a_file = str(tmp_path / "afile" / "store")
    assert_one_line_error(atsbridge(tmp_path, "migrate", ATSBRIDGE_DATA_DIR=inside_a_file), "ATSBRIDGE_DATA_DIR")


def test_serving_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert_one_line_error(atsbridge(tmp_path, "serve", "--port", str(port)), f"127.0.0.1:{port}")


def test_serving_on_an_empty_host_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(atsbridge(tmp_path, "serve", "--host", ""), "--host")


def test_showing_an_unknown_environments_webhook_creates_nothing(tmp_path: Path) -> None:
    shown = atsbridge(tmp_path, "webhook", "show", "--environment", "typo", "--json")
    assert shown.returncode == 1
    assert json.loads(shown.stdout)["error"]["code"] == "ENVIRONMENT_NOT_FOUND"
    created = atsbridge(tmp_path, "api-key", "create", "--environment", "typo", "--json")  # now it exists
    assert created.returncode == 0
    assert atsbridge(tmp_path, "webhook", "show", "--environment", "typo", "--json").returncode == 0


def test_a_blank_environment_name_is_refused(tmp_path: Path) -> None:
    for command in (("api-key", "create"), ("webhook", "show"), ("webhook", "set", "--url", "https://x.example")):
        refused = atsbridge(tmp_path, *command, "--environment", "  ", "--json")
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["error"]["code"] == "INPUT_INVALID"


def test_an_environment_name_is_taken_trimmed(tmp_path: Path) -> None:
    created = atsbridge(tmp_path, "api-key", "create", "--environment", " acme ", "--json")
    again = atsbridge(tmp_path, "api-key", "create", "--environment", "acme", "--json")
    assert json.loads(created.stdout)["environment_id"] == json.loads(again.stdout)["environment_id"]
    with sqlite3.connect(tmp_path / "data" / "atsbridge.sqlite3") as store:  # kept padded by an older version
        store.execute("INSERT INTO environments (id, name, created_at) VALUES ('old-beta', ' beta ', '2026-01-01')")
    shown = atsbridge(tmp_path, "api-key", "create", "--environment", "beta", "--json")
    assert json.loads(shown.stdout)["environment_id"] == "old-beta"  # found, not a second "beta"


def to_closed_stdout(tmp_path: Path, *args: str, closed: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")}
    environment = {**inherited, "ATSBRIDGE_DATA_DIR": str(tmp_path / "data"), "ATSBRIDGE_DATABASE_URL": "", **env}
    return run_with_unwritable_stdout(list(args), environment, closed)


def test_an_error_told_to_a_closed_stdout_is_still_one_line_on_stderr(tmp_path: Path) -> None:
    result = to_closed_stdout(tmp_path, "api-key", "list", "--json", ATSBRIDGE_PORT="0")
    assert (result.returncode, result.stderr.strip().splitlines()) == (
        1, ["error: configuration: ATSBRIDGE_PORT: Input should be greater than or equal to 1"]
    )  # fmt: skip


@pytest.mark.parametrize("closed", ["", "start", "full"], ids=["reader gone", "closed at start", "disk full"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["plain", "json"])
def test_a_key_that_cannot_be_shown_is_not_made(tmp_path: Path, closed: str, json_flag: list[str]) -> None:
    """It is shown once: made but unseen, it would be a key nobody holds (and a script retrying makes another)."""
    result = to_closed_stdout(tmp_path, "api-key", "create", "--environment", "acme", *json_flag, closed=closed)
    assert (result.returncode, result.stderr.strip().splitlines()) == (
        1, ["error: stdout cannot be written (closed or full), so the new key could not be shown: nothing was made"]
    )  # fmt: skip
    listed = atsbridge(tmp_path, "api-key", "list", "--json")
    assert json.loads(listed.stdout)["api_keys"] == []
    assert json.loads(atsbridge(tmp_path, "env", "list", "--json").stdout) == {"environments": []}  # not its either


@pytest.mark.parametrize("closed", ["", "start", "full"], ids=["reader gone", "closed at start", "disk full"])
def test_a_webhook_secret_that_cannot_be_shown_is_not_set(tmp_path: Path, closed: str) -> None:
    """Its secret is shown by `webhook set`: a rotated one nobody saw would leave every receiver failing to verify."""
    unseen = to_closed_stdout(
        tmp_path, "webhook", "set", "--url", "https://a.example/h", "--environment", "acme", closed=closed
    )
    assert unseen.returncode == 1
    assert "so the signing secret could not be shown: nothing was made" in unseen.stderr
    shown = atsbridge(tmp_path, "webhook", "show", "--environment", "acme", "--json")
    assert json.loads(shown.stdout)["error"]["code"] == "ENVIRONMENT_NOT_FOUND"  # not even the environment

    first = json.loads(
        atsbridge(tmp_path, "webhook", "set", "--url", "https://a.example/h", "--environment", "acme", "--json").stdout
    )
    rotated = to_closed_stdout(
        tmp_path,
        "webhook",
        "set",
        "--url",
        "https://b.example/h",
        "--environment",
        "acme",
        "--rotate-secret",
        closed=closed,
    )
    assert rotated.returncode == 1
    kept = json.loads(atsbridge(tmp_path, "webhook", "show", "--environment", "acme", "--json").stdout)
    assert (kept["url"], kept["secret"]) == ("https://a.example/h", first["secret"])


def test_the_demo_empties_only_a_demo_store(tmp_path: Path) -> None:
    store = tmp_path / "demo"
    clear_store(store)  # a new directory becomes the demo's
    for name in ("atsbridge.sqlite3", "atsbridge.sqlite3-wal", "secret.key", ".secret.key.0a1b"):  # a key aside
        (store / name).write_text("old run")
    clear_store(store)
    assert [p.name for p in store.iterdir()] == [DEMO_MARKER]
    (store / "atsbridge.sqlite3").write_text("old run")
    (store / "important.txt").write_text("keep me")
    with pytest.raises(DemoError, match="--data-dir"):
        clear_store(store)
    assert sorted(p.name for p in store.iterdir()) == [DEMO_MARKER, "atsbridge.sqlite3", "important.txt"]


def test_the_demo_never_empties_a_real_store(tmp_path: Path) -> None:
    real = tmp_path / "store"  # the same files as a demo store, but not made by the demo
    real.mkdir()
    for name in ("atsbridge.sqlite3", "secret.key"):
        (real / name).write_text("customer data")
    with pytest.raises(DemoError, match="not a demo store"):
        clear_store(real)
    assert sorted(p.name for p in real.iterdir()) == ["atsbridge.sqlite3", "secret.key"]


def test_the_demo_runs_on_the_embedded_default_in_a_scale_out_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATSBRIDGE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("ATSBRIDGE_SYNC_RUNNER", "queue")
    settings = demo_settings(tmp_path)
    assert settings.sync_runner == "embedded"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'atsbridge.sqlite3'}"


def test_the_demo_refuses_a_size_the_emulator_cannot_seed_before_making_anything(tmp_path: Path) -> None:
    result = atsbridge(tmp_path, "demo", "--size", "250001", "--data-dir", str(tmp_path / "demo"))
    assert result.returncode == 2 and "--size" in result.stderr
    assert not (tmp_path / "demo").exists()


def test_the_demo_refuses_one_port_for_the_api_and_the_emulator(tmp_path: Path) -> None:
    result = atsbridge(
        tmp_path, "demo", "--port", "18765", "--emulator-port", "18765", "--data-dir", str(tmp_path / "d")
    )
    assert_one_line_error(result, "--port", "--emulator-port")
    assert not (tmp_path / "d").exists()  # refused before anything was made


def test_the_demo_says_why_its_emulator_did_not_start_without_a_traceback(tmp_path: Path) -> None:
    # an emulator that refuses to start, found first on the path (`python -m` looks in the working directory)
    refusing = tmp_path / "cwd" / "recru_emulator"
    refusing.mkdir(parents=True)
    (refusing / "__init__.py").write_text("")
    (refusing / "__main__.py").write_text("import sys\nsys.exit('error: the tenant cannot be seeded')\n")
    ports = [str(port) for port in (free_port(), free_port())]
    result = atsbridge(
        tmp_path, "demo", "--port", ports[0], "--emulator-port", ports[1], "--data-dir", str(tmp_path / "d"),
        cwd=tmp_path / "cwd",
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: the tenant cannot be seeded", result.stderr  # its own
    assert lines[-1] == "error: the RECRU emulator did not start (its error is above)", result.stderr


def test_the_demo_refuses_a_port_something_listens_on() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(DemoError, match="--emulator-port"):
            ensure_free(listener.getsockname()[1], "--emulator-port")


def test_allowlist_entries_docker_and_dns_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATSBRIDGE_DATA_URL_ALLOWLIST", " file_server, files.internal., bücher.example,10.0.0.0/8,::1")
    assert Settings().data_url_allowlist == "file_server,files.internal,bücher.example,10.0.0.0/8,::1"


def test_a_store_a_newer_version_upgraded_is_one_line(tmp_path: Path) -> None:
    assert atsbridge(tmp_path, "migrate").returncode == 0
    store = sqlite3.connect(tmp_path / "data" / "atsbridge.sqlite3")
    with store:
        store.execute("UPDATE alembic_version SET version_num = '9999'")
    store.close()
    assert_one_line_error(atsbridge(tmp_path, "integration", "list"), "9999", "newer version of atsbridge")


def test_migrate_tells_what_it_did(tmp_path: Path) -> None:
    newest = head_revision()
    assert atsbridge(tmp_path, "migrate").stderr.strip() == f"the store was created at revision {newest}"
    again = atsbridge(tmp_path, "migrate").stderr.strip()
    assert again == f"the store is at the newest schema already (revision {newest})"
    older_url = f"sqlite:///{tmp_path / 'older.sqlite3'}"
    migrate(create_engine(older_url), "0011")
    older = atsbridge(tmp_path, "migrate", ATSBRIDGE_DATABASE_URL=older_url)
    assert older.stderr.strip() == f"the store was upgraded from revision 0011 to {newest}"


def test_a_postgresql_url_naming_another_driver_uses_psycopg(tmp_path: Path) -> None:
    """``postgresql+psycopg2://`` or ``+asyncpg``: the same database, reached with the driver atsbridge ships (they
    were a ModuleNotFoundError traceback)."""
    for driver in ("psycopg2", "asyncpg"):
        url = f"postgresql+{driver}://postgres@127.0.0.1:1/x"  # nothing listens there: refused, in one line
        assert_one_line_error(atsbridge(tmp_path, "migrate", ATSBRIDGE_DATABASE_URL=url), "store", "refused")


@pytest.mark.parametrize("content", ["", "not hex at all", "ab" * 31], ids=["empty", "not hex", "too short"])
def test_a_damaged_secret_key_file_is_one_line_and_names_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text(content)
    told = atsbridge(tmp_path, "webhook", "set", "--url", "https://x.example", "--json")
    assert_one_line_error(told, "secret.key", "damaged")
    assert json.loads(told.stdout)["error"]["code"] == "SECRET_UNREADABLE"
    assert_one_line_error(atsbridge(tmp_path, "serve", "--port", "1"), "secret.key", "damaged")
    assert (tmp_path / "data" / "secret.key").read_text() == content  # never replaced by another key


def test_the_secret_key_file_is_made_whole_once(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "data").encryption_key
    assert Settings(data_dir=tmp_path / "data").encryption_key == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret.key"]  # nothing left aside
    assert oct((tmp_path / "data" / "secret.key").stat().st_mode & 0o777) == "0o600"


def test_the_secret_key_file_is_made_on_a_file_system_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hard_links(source: object, target: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    first = Settings(data_dir=tmp_path / "data").encryption_key
    assert len(first) == 32 and Settings(data_dir=tmp_path / "data").encryption_key == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret.key"]


def test_an_argument_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    undecodable = b"env\xff".decode("utf-8", "surrogateescape")
    result = atsbridge(tmp_path, "api-key", "create", "--environment", undecodable, "--json")
    assert_one_line_error(result, "not UTF-8", "env\\xff")
    assert json.loads(result.stdout)["error"]["code"] == "INPUT_INVALID"
    assert not (tmp_path / "data").exists()  # nothing made


def test_an_argument_holding_a_line_break_is_quoted_on_the_one_line(tmp_path: Path) -> None:
    result = atsbridge(tmp_path, "sync", "recruhr:a\nerror: fake line")
    assert_one_line_error(result, "recruhr:a\\nerror: fake line")


def test_every_error_with_json_is_one_line_on_stderr_too(tmp_path: Path) -> None:
    refused = atsbridge(tmp_path, "sync", "recruhr:nothing-of-that-name", "--json")
    assert_one_line_error(refused, "recruhr:nothing-of-that-name")
    assert json.loads(refused.stdout)["error"]["code"] == "INTEGRATION_NOT_FOUND"


def test_a_second_demo_on_a_running_demos_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "demo"
    running = clear_store(store)  # as a demo running meanwhile holds it
    (store / "atsbridge.sqlite3").write_text("the running demo's data")
    try:
        with pytest.raises(DemoError, match="another `atsbridge demo`"):
            clear_store(store)
        assert (store / "atsbridge.sqlite3").read_text() == "the running demo's data"
    finally:
        running.close()
    clear_store(store).close()  # once it has stopped, the next demo starts over
    assert [p.name for p in store.iterdir()] == [DEMO_MARKER]
    assert oct(store.stat().st_mode & 0o777) == "0o700"


def test_api_keys_are_listed_without_the_key_and_revoked_by_id(tmp_path: Path) -> None:
    acme = json.loads(atsbridge(tmp_path, "api-key", "create", "--environment", "acme", "--json").stdout)["key"]
    atsbridge(tmp_path, "api-key", "create", "--environment", "beta", "--json")
    listed = json.loads(atsbridge(tmp_path, "api-key", "list", "--json").stdout)["api_keys"]
    assert [(k["environment"], acme.startswith(k["prefix"])) for k in listed] == [("acme", True), ("beta", False)]
    assert all(acme not in json.dumps(k) and len(k["prefix"]) < 15 for k in listed)
    only_acme = json.loads(atsbridge(tmp_path, "api-key", "list", "--environment", "acme", "--json").stdout)
    assert [k["id"] for k in only_acme["api_keys"]] == [listed[0]["id"]]

    revoked = atsbridge(tmp_path, "api-key", "revoke", listed[0]["id"], "--json")
    assert json.loads(revoked.stdout) == {"id": listed[0]["id"], "revoked": True}
    with create_engine(f"sqlite:///{tmp_path / 'data' / 'atsbridge.sqlite3'}").connect() as conn:
        assert environment_of_key(conn, acme) is None  # the API refuses it (401)
    again = atsbridge(tmp_path, "api-key", "revoke", listed[0]["id"], "--json")
    assert_one_line_error(again, listed[0]["id"])
    assert json.loads(again.stdout)["error"]["code"] == "API_KEY_NOT_FOUND"
    assert [
        k["environment"] for k in json.loads(atsbridge(tmp_path, "api-key", "list", "--json").stdout)["api_keys"]
    ] == ["beta"]
