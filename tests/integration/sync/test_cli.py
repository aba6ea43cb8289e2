"""The `atsbridge integration create` and `atsbridge sync` commands, run as a user runs them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from sqlalchemy import Engine, func, select

from atsbridge.store import tables
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import load_credentials, load_integration, set_integration_fields
from atsbridge.store.run_owner import this_process
from atsbridge.store.syncs import load_sync, start_sync
from atsbridge.sync.engine import PROCESS_STOPPING
from integration.sync.parity import assert_parity
from support.closed_stdout import run_with_unwritable_stdout
from support.emulator_process import EmulatorProcess, free_port
from support.recru import Recru


def environment(engine: Engine, tmp_path: Path, key: str = "ab" * 32) -> dict[str, str]:
    """The command's environment: this test's store, data dir and secret key."""
    return {
        **os.environ,
        "ATSBRIDGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ATSBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "ATSBRIDGE_SECRET_KEY": key,
    }


def atsbridge(
    engine: Engine, tmp_path: Path, *args: str, key: str = "ab" * 32, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, without a terminal (a prompt reads ``stdin``)."""
    command = [sys.executable, "-m", "atsbridge.cli", *args]
    return subprocess.run(
        command,
        env=environment(engine, tmp_path, key),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


def connected(engine: Engine, tmp_path: Path, process: EmulatorProcess, *options: str) -> str:
    """The id of an integration of the emulator's tenant, created by ``atsbridge integration create [options]``."""
    created = atsbridge(
        engine, tmp_path, "integration", "create", "--tenant-url", process.url, "--login", process.login,
        "--password", process.password, "--json", *options,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout)["id"])


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

    (listed,) = json.loads(atsbridge(engine, tmp_path, "integration", "list", "--json").stdout)["integrations"]
    assert listed == {
        "id": integration_id,
        "environment": "acme",
        "tenant_url": recru_process.url,
        "state": "ACTIVE",
        "setup_status": "COMPLETED",
        "sync_only_created_applications": False,
        "latest_sync": {"id": delta["sync_id"], "type": "DELTA", "state": "SUCCEEDED", "ended_at": ANY},
    }
    with engine.connect() as conn:
        ended_at = load_sync(conn, delta["sync_id"]).ended_at
    assert ended_at is not None
    assert listed["latest_sync"]["ended_at"] == ended_at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

    unknown = atsbridge(engine, tmp_path, "sync", "recruhr:nope", "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "INTEGRATION_NOT_FOUND"


def test_create_names_the_end_users_organisation_the_tenant_unless_told(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    """Events and the integration show it (Kombo's end_user.organization_name): never an empty name."""
    default = connected(engine, tmp_path, recru_process)
    named = connected(engine, tmp_path, recru_process, "--organization", "  Acme s.r.o. ")
    longest = connected(engine, tmp_path, recru_process, "--organization", f" {'y' * 500} ")  # counted trimmed
    unseen = connected(engine, tmp_path, recru_process, "--organization", "\u200b")  # blank to the eye: the tenant
    for wrong in ("x" * 501, "Acme\nerror: fake line"):
        refused = atsbridge(engine, tmp_path, "integration", "create", "--tenant-url", recru_process.url, "--login",
                            recru_process.login, "--password", recru_process.password, "--organization", wrong,
                            "--json")  # fmt: skip
        assert (refused.returncode, json.loads(refused.stdout)["error"]["code"]) == (1, "INPUT_INVALID")
    with engine.connect() as conn:
        names = {i: load_integration(conn, i).end_user_organization_name for i in (default, named, longest, unseen)}
        outbox = tables.webhook_outbox
        created = conn.execute(select(outbox.c.payload).where(outbox.c.type == "integration-created")).scalars().all()
    tenant = recru_process.url.removeprefix("http://")
    assert names == {default: tenant, named: "Acme s.r.o.", longest: "y" * 500, unseen: tenant}
    assert sorted(p["end_user"]["organization_name"] for p in created) == sorted(names.values())
    assert integration_count(engine) == 4


def test_create_explains_an_unreachable_tenant(engine: Engine, tmp_path: Path) -> None:
    result = atsbridge(
        engine, tmp_path, "integration", "create", "--tenant-url", "http://127.0.0.1:9", "--login", "a@b.cz",
        "--password", "x", "--json",
    )  # fmt: skip
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "UNREACHABLE"
    assert "http://127.0.0.1:9" in error["message"] and "step" not in error["message"]  # the page's steps, not here
    assert integration_count(engine) == 0


def test_create_without_json_prints_the_id_alone_on_stdout(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    """As `api-key create` prints its key: `ID=$(atsbridge integration create …)` takes the id."""
    created = atsbridge(
        engine, tmp_path, "integration", "create", "--tenant-url", recru_process.url, "--login", recru_process.login,
        "--password", recru_process.password, "--environment", "acme",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    with engine.connect() as conn:
        stored = conn.execute(select(tables.integrations.c.id)).scalar_one()
    assert created.stdout == f"{stored}\n"
    assert "created in environment 'acme'" in created.stderr


def test_an_integration_whose_id_cannot_be_shown_is_not_made(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    """`atsbridge integration create … | head -c 0`: made but unseen, a script retrying on exit 1 made another."""
    args = ["integration", "create", "--tenant-url", recru_process.url, "--login", recru_process.login]
    result = run_with_unwritable_stdout([*args, "--password", recru_process.password], environment(engine, tmp_path))
    assert result.returncode == 1
    assert (
        "stdout cannot be written (closed or full), so the new integration's id could not be shown: nothing was made"
        in result.stderr
    )
    assert integration_count(engine) == 0


def test_a_piped_password_leaves_stdout_to_the_json_answer(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    args = ["integration", "create", "--tenant-url", recru_process.url, "--login", recru_process.login, "--json"]
    created = atsbridge(engine, tmp_path, *args, stdin=recru_process.password + "\n")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["id"].startswith("recruhr:")
    assert created.stderr == ""  # piped in: no prompt, no warning that it may be echoed
    unanswered = atsbridge(engine, tmp_path, *args, stdin="")  # no terminal, nothing to read
    assert unanswered.returncode == 1
    assert json.loads(unanswered.stdout)["error"]["code"] == "INPUT_INVALID"
    assert integration_count(engine) == 1


def test_an_address_that_is_no_host_is_an_invalid_tenant(engine: Engine, tmp_path: Path) -> None:
    for address in ("http://256.256.256.256", "http://1.2.3"):
        result = atsbridge(
            engine, tmp_path, "integration", "create", "--tenant-url", address, "--login", "a@b.cz", "--password",
            "x", "--json",
        )  # fmt: skip
        assert result.returncode == 1
        assert json.loads(result.stdout)["error"]["code"] == "INVALID_TENANT"
        assert "Traceback" not in result.stderr
    assert integration_count(engine) == 0


def test_a_wrong_or_malformed_secret_key_is_told_in_one_line(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    integration_id = connected(engine, tmp_path, recru_process)
    other_key = atsbridge(engine, tmp_path, "sync", integration_id, "--json", key="cd" * 32)
    assert other_key.returncode == 1
    assert "cannot be decrypted" in other_key.stderr and "Traceback" not in other_key.stderr
    assert json.loads(other_key.stdout)["error"]["code"] == "STORE_UNUSABLE"  # --json: the error object on stdout
    creating = atsbridge(
        engine, tmp_path, "integration", "create", "--tenant-url", recru_process.url, "--login", recru_process.login,
        "--password", recru_process.password, "--json", key="cd" * 32,
    )  # fmt: skip
    assert creating.returncode == 1 and "cannot be decrypted" in creating.stderr
    assert integration_count(engine) == 1  # nothing stored under a key no other process could read
    for malformed in ("not-hex", "ab" * 16):
        refused = atsbridge(engine, tmp_path, "sync", integration_id, "--json", key=malformed)
        assert refused.returncode == 1
        assert "ATSBRIDGE_SECRET_KEY" in refused.stderr and "Traceback" not in refused.stderr
        assert json.loads(refused.stdout)["error"]["code"] == "CONFIGURATION_INVALID"


def test_integration_relink_replaces_the_credentials_after_a_real_login(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess, recru: Recru
) -> None:
    integration_id = connected(engine, tmp_path, recru_process)
    with engine.begin() as conn:  # as after a sync whose login RECRU refused
        set_integration_fields(conn, integration_id, status="INVALID")
    new_user = {"email": "api2@acme.example", "password": "second-API-user-1", "apiAccess": True, "role": "admin"}
    recru.create("users", **new_user)

    refused = atsbridge(
        engine, tmp_path, "integration", "relink", integration_id, "--login", new_user["email"], "--json",
        stdin="not-its-password\n",
    )  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert json.loads(refused.stdout)["error"]["code"] == "LOGIN_FAILED"
    with engine.connect() as conn:
        unchanged = load_integration(conn, integration_id)
    assert unchanged is not None and unchanged.status == "INVALID"

    relinked = atsbridge(
        engine, tmp_path, "integration", "relink", integration_id, "--login", new_user["email"], "--json",
        stdin=f"{new_user['password']}\n",
    )  # fmt: skip
    assert relinked.returncode == 0, relinked.stderr
    answer = json.loads(relinked.stdout)
    assert (answer["id"], answer["status"]) == (integration_id, "ACTIVE")
    with engine.connect() as conn:
        credentials = load_credentials(conn, bytes.fromhex("ab" * 32), integration_id)
        queued = load_sync(conn, answer["sync_id"])
    assert credentials == RecruCredentials(new_user["email"], new_user["password"])
    assert queued is not None and queued.type == "FULL"  # its first sync never ran
    synced = atsbridge(engine, tmp_path, "sync", integration_id, "--json")
    assert synced.returncode == 0 and json.loads(synced.stdout)["state"] == "SUCCEEDED", synced.stderr
    gone = atsbridge(engine, tmp_path, "integration", "relink", "recruhr:nothing", "--login", "a@b.cz", "--json")
    assert gone.returncode == 1 and json.loads(gone.stdout)["error"]["code"] == "INTEGRATION_NOT_FOUND"

    with engine.begin() as conn:
        set_integration_fields(conn, integration_id, enabled=False)
    disabled = atsbridge(
        engine, tmp_path, "integration", "relink", integration_id, "--login", new_user["email"], "--json",
        stdin=f"{new_user['password']}\n",
    )  # fmt: skip
    assert json.loads(disabled.stdout) == {"id": integration_id, "status": "INACTIVE", "sync_id": None}  # as the API


def test_serve_and_worker_refuse_to_start_with_a_key_that_cannot_open_the_stored_credentials(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    connected(engine, tmp_path, recru_process)
    with socket.create_server(("127.0.0.1", 0)) as taken:  # so a serve that went on would stop at once, otherwise
        commands = [("serve", "--port", str(taken.getsockname()[1]), "--no-syncs")]
        if engine.dialect.name == "postgresql":
            commands.append(("worker",))
        for command in commands:
            refused = atsbridge(engine, tmp_path, *command, key="cd" * 32)
            assert refused.returncode == 1, refused.stderr
            assert "cannot be decrypted" in refused.stderr and "Traceback" not in refused.stderr


def test_sync_refuses_while_another_process_runs_one_of_the_integration(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    integration_id = connected(engine, tmp_path, recru_process)
    with engine.begin() as conn:  # as a server's run would be: RUNNING, its heartbeat fresh
        running = start_sync(conn, integration_id, "DELTA", datetime.now(UTC))
    refused = atsbridge(engine, tmp_path, "sync", integration_id, "--full", "--json")
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "SYNC_RUNNING" and running in error["message"]
    with engine.connect() as conn:
        still = load_sync(conn, running)
    assert still is not None and still.state == "RUNNING"  # not abandoned: it is alive


def test_sync_with_credentials_recru_now_refuses_makes_the_integration_invalid(
    engine: Engine, tmp_path: Path, recru: Recru, recru_process: EmulatorProcess
) -> None:
    integration_id = connected(engine, tmp_path, recru_process)
    recru.patch("users", 1, password="changed-by-the-customer")
    try:
        refused = atsbridge(engine, tmp_path, "sync", integration_id, "--json")
    finally:  # a reset keeps the API user's password: put it back for the other tests
        recru.patch("users", 1, password=recru_process.password)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["state"] == "FAILED"
    with engine.connect() as conn:
        integration = load_integration(conn, integration_id)
    assert integration is not None and integration.status == "INVALID"
    again = atsbridge(engine, tmp_path, "sync", integration_id, "--json")  # the password is right again
    assert again.returncode == 0, again.stdout
    with engine.connect() as conn:
        integration = load_integration(conn, integration_id)
    assert integration is not None and integration.status == "ACTIVE"


@contextmanager
def sync_held_in(
    engine: Engine, tmp_path: Path, recru: Recru, integration_id: str, method: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`atsbridge sync` of the integration as its own process, held by RECRU in a slow ``method`` listing: the
    process and its run. The process is killed and the fault cleared on the way out."""
    recru.control("POST", "/faults", {"kind": "slow", "method": method, "delaySeconds": 30})
    command = [sys.executable, "-m", "atsbridge.cli", "sync", integration_id, "--json"]
    process = subprocess.Popen(command, env=environment(engine, tmp_path), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while running_syncs(engine, integration_id) == [] and time.monotonic() < deadline:
            time.sleep(0.1)
        (run,) = running_syncs(engine, integration_id)
        time.sleep(1)  # into the slow listing
        yield process, run
    finally:
        process.kill()
        recru.control("DELETE", "/faults")


@pytest.mark.parametrize(
    "stops",
    [[signal.SIGTERM], [signal.SIGINT], [signal.SIGINT, signal.SIGINT], [signal.SIGTERM, signal.SIGTERM]],
    ids=["SIGTERM", "Ctrl-C", "double Ctrl-C", "double SIGTERM"],
)
def test_a_stopped_sync_records_its_run_cancelled_and_prints_its_report(
    engine: Engine, tmp_path: Path, recru: Recru, recru_process: EmulatorProcess, stops: list[signal.Signals]
) -> None:
    """A second signal while the stop is recorded (10 ms after the first) changes nothing: it cut the recording
    short, leaving the run RUNNING while the CLI said it was recorded CANCELLED."""
    integration_id = connected(engine, tmp_path, recru_process)
    with sync_held_in(engine, tmp_path, recru, integration_id, "ProjectService.list") as (process, run):
        for stop in stops:
            process.send_signal(stop)
            time.sleep(0.01)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    report = json.loads(output)  # --json: as every run that did not succeed, its report
    assert (report["sync_id"], report["state"]) == (run, "CANCELLED")
    assert [(e["level"], e["message"]) for e in report["errors"]] == [("info", PROCESS_STOPPING)]
    assert report["counts"]["ats_users"]["created"] > 0  # written before the stop
    with engine.connect() as conn:
        stopped = load_sync(conn, run)
    assert stopped is not None and (stopped.state, stopped.errors) == ("CANCELLED", report["errors"])
    assert atsbridge(engine, tmp_path, "sync", integration_id, "--json").returncode == 0  # nothing left RUNNING


@pytest.mark.parametrize(
    "stops",
    [(signal.SIGTERM,), (signal.SIGINT,), (signal.SIGINT, signal.SIGINT)],
    ids=["SIGTERM", "Ctrl-C", "Ctrl-C twice"],
)
def test_serve_stops_within_a_deploys_timeout_whatever_a_request_waits_for(
    engine: Engine, tmp_path: Path, recru: Recru, recru_process: EmulatorProcess, stops: tuple[signal.Signals, ...]
) -> None:
    """An action waiting on a slow RECRU held `serve` until it ended (minutes), its scheduler still starting syncs:
    requests in flight get 5 s, then are answered in the envelope (was a dropped connection, or a plain-text 500
    with a traceback), and the background work stops at the signal. A second Ctrl-C cuts the requests off at once
    and still shuts the app down (its clients were closed under the action: a 500; or, with no request in flight,
    uvicorn skipped the app's shutdown and asyncio logged a traceback)."""
    integration_id = connected(engine, tmp_path, recru_process, "--sync-all")
    key = json.loads(atsbridge(engine, tmp_path, "api-key", "create", "--json").stdout)["key"]
    port = free_port()
    command = [sys.executable, "-m", "atsbridge.cli", "serve", "--port", str(port)]
    serving = subprocess.Popen(command, env=environment(engine, tmp_path), stderr=subprocess.PIPE, text=True)
    base, headers = (
        f"http://127.0.0.1:{port}/v1",
        {"Authorization": f"Bearer {key}", "X-Integration-Id": integration_id},
    )
    job = next(p for p in recru.all("projects") if p["status"] == "open")
    recru.control("POST", "/faults", {"kind": "slow", "method": "ApplicationService.create", "delaySeconds": 50})
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/check-api-key", headers=headers).status_code == 200:
                    break
            time.sleep(0.1)
        body = {"candidate": {"first_name": "Eva", "last_name": "Pomalá", "email_address": "eva.pomala@example.cz"}}
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(
                httpx.post, f"{base}/ats/jobs/remote:{job['id']}/applications", json=body, headers=headers, timeout=90
            )
            time.sleep(2)  # the create is waiting on RECRU
            asked = time.monotonic()
            for stop in stops:
                serving.send_signal(stop)
                time.sleep(1)
            serving.wait(30)
            took = time.monotonic() - asked
            answer = waiting.result()
    finally:
        serving.kill()
        recru.control("DELETE", "/faults")
    logged = serving.stderr.read() if serving.stderr else ""
    assert took < 9, logged
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"]["code"] == "PLATFORM.TASK_TIMED_OUT"
    assert "Traceback" not in logged
    assert "Application shutdown complete" in logged
    # the action itself was stopped, not left running unanswered: its create is known of unknown outcome at once
    # (a retry answers what RECRU made), not held as still being sent until its 4-minute deadline
    with engine.connect() as conn:
        pending = conn.execute(
            select(tables.pending_applications.c.sending_until).where(
                tables.pending_applications.c.integration_id == integration_id
            )
        ).all()
    assert [row.sending_until for row in pending] == [None]


@pytest.mark.skipif(this_process() is None, reason="no /proc to tell a dead process by")
def test_a_sync_killed_outright_is_no_obstacle_to_the_next_one(
    engine: Engine, tmp_path: Path, recru: Recru, recru_process: EmulatorProcess
) -> None:
    """SIGKILL leaves the run RUNNING with a fresh heartbeat; its process is known gone, so a rerun at once is not
    refused for minutes (until the heartbeat goes stale) and ends in parity."""
    integration_id = connected(engine, tmp_path, recru_process, "--sync-all")
    odd = recru.create("users", email="not an address")  # a warning of the run, before it is killed
    with sync_held_in(engine, tmp_path, recru, integration_id, "JobseekerService.list") as (process, killed):
        process.kill()  # past the users and jobs
        process.communicate(timeout=60)
    recru.delete("users", odd["id"])  # (the parity check below knows no such address)
    assert running_syncs(engine, integration_id) == [killed]  # nobody recorded its end

    rerun = atsbridge(engine, tmp_path, "sync", integration_id, "--full", "--json")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert json.loads(rerun.stdout)["state"] == "SUCCEEDED"
    with engine.connect() as conn:
        abandoned = load_sync(conn, killed)
        stored = {
            model.value: conn.scalar(
                select(func.count()).select_from(table).where(table.c.integration_id == integration_id)
            )
            for model, table in tables.MODEL_TABLES.items()
        }
    assert abandoned is not None and abandoned.state == "FAILED"
    assert_parity(engine, integration_id, recru)
    # what the killed run committed is counted in its record, so each stored record was created by one of the runs
    rerun_counts = json.loads(rerun.stdout)["counts"]
    created_by_both = {model: abandoned.counts[model]["created"] + rerun_counts[model]["created"] for model in stored}
    assert created_by_both == stored
    assert abandoned.counts["ats_users"]["created"] == stored["ats_users"] > 0  # written before the kill
    assert [e["level"] for e in abandoned.errors] == ["warning", "error"]
    assert abandoned.errors[0]["message"].startswith("ats_users.email: ")
    assert abandoned.errors[1]["message"] == "the run's process stopped answering"


def running_syncs(engine: Engine, integration_id: str) -> list[str]:
    with engine.connect() as conn:
        query = select(tables.syncs.c.id).where(
            tables.syncs.c.integration_id == integration_id, tables.syncs.c.state == "RUNNING"
        )
        return list(conn.execute(query).scalars())


def test_sync_refuses_a_disabled_integration(engine: Engine, tmp_path: Path, recru_process: EmulatorProcess) -> None:
    integration_id = connected(engine, tmp_path, recru_process)
    with engine.begin() as conn:
        set_integration_fields(conn, integration_id, enabled=False)
    refused = atsbridge(engine, tmp_path, "sync", integration_id, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "INTEGRATION_DISABLED"
    with engine.connect() as conn:
        assert load_sync_count(conn, integration_id) == 0


def test_integration_list_shows_one_environment_or_all(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    first = connected(engine, tmp_path, recru_process)
    second = connected(engine, tmp_path, recru_process, "--environment", "acme")
    with engine.begin() as conn:
        set_integration_fields(conn, first, enabled=False)

    every = atsbridge(engine, tmp_path, "integration", "list")
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    (first_line,) = [line for line in lines if first in line]
    (second_line,) = [line for line in lines if second in line]
    assert "INACTIVE" in first_line and "FINAL_SYNC_PENDING" in first_line and first_line.endswith("none")
    assert "ACTIVE" in second_line and "created applications" in second_line

    only_acme = json.loads(atsbridge(engine, tmp_path, "integration", "list", "--environment", "acme", "--json").stdout)
    assert [found["id"] for found in only_acme["integrations"]] == [second]
    unknown = atsbridge(engine, tmp_path, "integration", "list", "--environment", "nobody", "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "ENVIRONMENT_NOT_FOUND"


def load_sync_count(conn: Any, integration_id: str) -> int:
    query = select(func.count()).select_from(tables.syncs).where(tables.syncs.c.integration_id == integration_id)
    return int(conn.execute(query).scalar_one())


def test_settings_refuse_a_source_label_recru_cannot_take_and_sync_all_queues_a_full(
    engine: Engine, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    integration_id = connected(engine, tmp_path, recru_process)  # only created applications, by default
    for label in ("", "   ", "x" * 101, "Job\tportal", "\u200b"):
        refused = atsbridge(
            engine, tmp_path, "integration", "settings", integration_id, "--source-label", label, "--json"
        )
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["error"]["code"] == "INPUT_INVALID"
    with engine.connect() as conn:
        found = load_integration(conn, integration_id)
        assert found is not None and found.source_label == found.environment_name  # unchanged
        before = set(
            conn.execute(select(tables.syncs.c.id).where(tables.syncs.c.integration_id == integration_id)).scalars()
        )

    changed = atsbridge(
        engine, tmp_path, "integration", "settings", integration_id, "--sync-all", "--source-label", " Jobs ", "--json"
    )
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout) == {
        "sync_only_created_applications": False,
        "source_label": "Jobs",
        "remote_data": False,
    }
    with engine.connect() as conn:
        queued = conn.execute(
            select(tables.syncs.c.type, tables.syncs.c.state).where(
                tables.syncs.c.integration_id == integration_id, tables.syncs.c.id.not_in(before)
            )
        ).all()
    assert [tuple(row) for row in queued] == [("FULL", "QUEUED")]  # for `serve` or a worker to run


def test_serve_logs_each_sync_it_runs(engine: Engine, tmp_path: Path, recru_process: EmulatorProcess) -> None:
    """Each run of the embedded scheduler is a log line on stderr, as a worker's is."""
    integration_id = connected(engine, tmp_path, recru_process)  # its first FULL is queued
    command = [sys.executable, "-m", "atsbridge.cli", "serve", "--port", str(free_port())]
    serving = subprocess.Popen(command, env=environment(engine, tmp_path), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and latest_state(engine, integration_id) != "SUCCEEDED":
            time.sleep(0.2)
    finally:
        serving.send_signal(signal.SIGINT)
        _, logged = serving.communicate(timeout=30)
    assert latest_state(engine, integration_id) == "SUCCEEDED"
    assert f"of {integration_id}: SUCCEEDED" in logged, logged


def latest_state(engine: Engine, integration_id: str) -> str | None:
    with engine.connect() as conn:
        state: str | None = conn.execute(
            select(tables.syncs.c.state)
            .where(tables.syncs.c.integration_id == integration_id)
            .order_by(tables.syncs.c.queued_at.desc())
            .limit(1)
        ).scalar()
    return state
