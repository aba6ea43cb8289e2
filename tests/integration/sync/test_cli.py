"""The `atsbridge integration create` and `atsbridge sync` commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

from atsbridge.store import tables
from integration.sync.parity import assert_parity
from support.emulator_process import EmulatorProcess
from support.recru import Recru


def atsbridge(engine: Engine, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ATSBRIDGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ATSBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "ATSBRIDGE_SECRET_KEY": "ab" * 32,
    }
    command = [sys.executable, "-m", "atsbridge.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def integration_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.integrations)).scalar_one())


def test_create_checks_credentials_then_sync_reports_counts(
    engine: Engine, tmp_path: Path, recru: Recru, recru_process: EmulatorProcess
) -> None:
    base = ["integration", "create", "--tool", "recruhr", "--tenant-url", recru_process.url]
    refused = atsbridge(engine, tmp_path, *base, "--login", recru_process.login, "--password", "wrong", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "LOGIN_FAILED"
    assert integration_count(engine) == 0  # nothing saved

    created = atsbridge(
        engine, tmp_path, *base, "--login", recru_process.login, "--password", recru_process.password,
        "--environment", "acme", "--sync-all", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    integration_id = json.loads(created.stdout)["id"]
    assert integration_id.startswith("recruhr:")
    assert integration_count(engine) == 1

    full = atsbridge(engine, tmp_path, "sync", integration_id, "--full", "--json")
    assert full.returncode == 0, full.stderr
    report = json.loads(full.stdout)
    assert report["state"] == "SUCCEEDED"
    assert report["type"] == "FULL"
    assert report["counts"]["ats_candidates"]["created"] == len(recru.all("jobseekers"))
    assert_parity(engine, integration_id, recru)

    delta = json.loads(atsbridge(engine, tmp_path, "sync", integration_id, "--delta", "--json").stdout)
    assert (delta["type"], delta["state"]) == ("DELTA", "SUCCEEDED")

    unknown = atsbridge(engine, tmp_path, "sync", "recruhr:nope", "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "INTEGRATION_NOT_FOUND"


def test_create_explains_an_unreachable_tenant(engine: Engine, tmp_path: Path) -> None:
    result = atsbridge(
        engine, tmp_path, "integration", "create", "--tenant-url", "http://127.0.0.1:9", "--login", "a@b.cz",
        "--password", "x", "--json",
    )  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "UNREACHABLE"
    assert integration_count(engine) == 0
