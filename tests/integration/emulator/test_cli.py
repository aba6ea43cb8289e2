"""§8 command line: ``python -m recru_emulator --port P --seed S --size N [--rate-limit ...] [--json]``."""

from __future__ import annotations

import contextlib
import json
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.emulator_process import EmulatorProcess, free_port, start_emulator

from .conftest import JOBSEEKERS, Api


@pytest.fixture
def started() -> Iterator[list[EmulatorProcess]]:
    processes: list[EmulatorProcess] = []
    yield processes
    for process in processes:
        process.stop()


def first_page(em: EmulatorProcess) -> list[dict[str, object]]:
    with httpx.Client(base_url=em.url, timeout=30) as client:
        api = Api(client, em.login, em.password)
        api.relogin()
        return api.page(JOBSEEKERS, perPage=200)["items"]


def test_help() -> None:
    result = subprocess.run([sys.executable, "-m", "recru_emulator", "--help"], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert b"--seed" in result.stdout
    assert b"--json" in result.stdout


def test_json_first_line(started: list[EmulatorProcess]) -> None:
    port = free_port()
    em = start_emulator("--seed", "3", "--size", "50", "--json", port=port)
    started.append(em)
    info = json.loads(em.first_line)
    assert set(info) == {"url", "login", "password"}
    assert info["url"] == f"http://127.0.0.1:{port}"
    assert isinstance(info["login"], str)
    assert "@" in info["login"]
    assert isinstance(info["password"], str)
    assert info["password"]
    with httpx.Client(base_url=em.url, timeout=30) as client:
        api = Api(client, em.login, em.password)
        api.relogin()
        assert api.total(JOBSEEKERS) == 50


def test_a_client_can_connect_as_soon_as_it_read_the_first_line() -> None:
    port = free_port()
    command = [sys.executable, "-m", "recru_emulator", "--size", "0", "--json", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            assert process.stdout is not None
            url = json.loads(process.stdout.readline())["url"]
            assert httpx.get(f"{url}/__emulator__/counters", timeout=10).status_code == 200  # no retry
        finally:
            process.terminate()


@pytest.mark.parametrize("program", [("recru_emulator",), ("atsbridge.cli", "emulator")], ids=["module", "atsbridge"])
def test_port_0_serves_on_a_free_port_and_prints_that_one(program: tuple[str, ...]) -> None:
    command = [sys.executable, "-m", *program, "--size", "0", "--json", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            assert process.stdout is not None
            url = json.loads(process.stdout.readline())["url"]
            assert not url.endswith(":0")
            assert httpx.get(f"{url}/__emulator__/counters", timeout=10).status_code == 200
        finally:
            process.terminate()


def test_sigterm_stops_it_within_seconds_though_a_slow_fault_holds_a_call() -> None:
    port = free_port()
    command = [sys.executable, "-m", "recru_emulator", "--size", "0", "--json", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["url"]
        httpx.post(f"{url}/__emulator__/faults", json={"kind": "slow", "delaySeconds": 300}, timeout=10)

        def ping() -> None:  # held by the fault until the emulator stops
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{url}/api/json-rpc", json={"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping"})

        held = threading.Thread(target=ping)
        held.start()
        time.sleep(0.5)
        stopping = time.monotonic()
        process.terminate()
        process.wait(15)  # uvicorn ends by raising the SIGTERM it caught again: -15
        assert time.monotonic() - stopping < 8
    held.join(10)


def test_an_ipv6_host_is_bracketed_in_the_url(started: list[EmulatorProcess]) -> None:
    port = free_port()
    command = [sys.executable, "-m", "recru_emulator", "--size", "0", "--json", "--host", "::1", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            assert process.stdout is not None
            url = json.loads(process.stdout.readline())["url"]
            assert url == f"http://[::1]:{port}"
            assert httpx.get(f"{url}/__emulator__/counters", timeout=10).status_code == 200
        finally:
            process.terminate()


@pytest.mark.parametrize("value", ["abc", "1.5", "0"])
def test_a_bad_rate_limit_is_one_error_line(value: str) -> None:
    refused = emulator_command("--port", str(free_port()), "--rate-limit", value)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("error: argument --rate-limit:") and refused.stderr.count("\n") == 1
    assert "_rate_limit" not in refused.stderr


def test_same_seed_and_size_give_the_same_tenant(started: list[EmulatorProcess], api: Api) -> None:
    first = start_emulator("--seed", "3", "--size", "50", "--json")
    started.append(first)
    time.sleep(1.1)  # timestamps must be anchored to a fixed date, not to the start time
    second = start_emulator("--seed", "3", "--size", "50", "--json")
    started.append(second)
    page = first_page(first)
    assert len(page) == 50
    assert first_page(second) == page
    third = start_emulator("--seed", "4", "--size", "50", "--json")
    started.append(third)
    assert first_page(third) != page
    # and a reset of the session emulator to the same seed and size
    api.ctl("POST", "/reset", {"seed": 3, "size": 50})
    api.relogin()
    assert api.page(JOBSEEKERS, perPage=200)["items"] == page


def test_rate_limit_option(started: list[EmulatorProcess]) -> None:
    em = start_emulator("--seed", "3", "--size", "10", "--rate-limit", "120", "--json")
    started.append(em)
    resp = httpx.post(
        f"{em.url}/api/json-rpc",
        json={"jsonrpc": "2.0", "id": 1, "method": "AuthService.login",
              "params": {"login": em.login, "password": em.password}},
    )  # fmt: skip
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Limit"] == "120"
    assert resp.headers["X-RateLimit-Remaining"] == "119"


@pytest.mark.parametrize("first_by", [("recru_emulator",), ("atsbridge.cli", "emulator")], ids=["module", "atsbridge"])
def test_state_file_keeps_the_tenant_across_a_restart(
    started: list[EmulatorProcess], tmp_path: Path, first_by: tuple[str, ...]
) -> None:
    state = tmp_path / "tenant.pickle"
    first = start_emulator("--seed", "3", "--size", "20", "--json", "--state-file", str(state), module=first_by)
    started.append(first)
    created = httpx.post(f"{first.url}/__emulator__/records/jobseekers", json={"lastName": "Přetrvalá"}).json()
    first.stop()
    assert state.exists()
    second = start_emulator("--seed", "99", "--size", "5", "--json", "--state-file", str(state))
    started.append(second)
    assert (second.login, second.password) == (first.login, first.password)
    with httpx.Client(base_url=second.url, timeout=30) as client:
        api = Api(client, second.login, second.password)
        api.relogin()
        assert api.get(JOBSEEKERS, created["id"])["lastName"] == "Přetrvalá"
        assert api.page(JOBSEEKERS, perPage=1)["total"] == 21
        client.post("/__emulator__/reset", json={})  # the tenant it was made from, not the command line's
        api.relogin()
        assert api.page(JOBSEEKERS, perPage=1)["total"] == 20


def test_a_reset_after_the_api_user_was_deleted_restores_its_latest_login_also_after_a_restart(
    started: list[EmulatorProcess], tmp_path: Path
) -> None:
    state = tmp_path / "tenant.pickle"
    first = start_emulator("--seed", "3", "--size", "5", "--json", "--state-file", str(state))
    started.append(first)
    with httpx.Client(base_url=first.url, timeout=30) as client:
        client.patch("/__emulator__/records/users/1", json={"email": "api-b@example.org", "password": "secret-B1"})
        client.post("/__emulator__/reset", json={})
        client.patch("/__emulator__/records/users/1", json={"email": "api-c@example.org", "password": "secret-C1"})
        assert client.delete("/__emulator__/records/users/1").status_code == 204
        client.post("/__emulator__/reset", json={})
        Api(client, "api-c@example.org", "secret-C1").relogin()  # not B's, which the reset before kept
        assert client.delete("/__emulator__/records/users/1").status_code == 204
    first.stop()
    second = start_emulator("--seed", "3", "--size", "5", "--json", "--state-file", str(state))
    started.append(second)
    assert (second.login, second.password) == ("api-c@example.org", "secret-C1")
    second.stderr.seek(0)
    assert "the login below works after POST /__emulator__/reset" in second.stderr.read().decode().replace("\n", "")
    with httpx.Client(base_url=second.url, timeout=30) as client:
        api = Api(client, second.login, second.password)
        credentials = {"login": second.login, "password": second.password}
        api.error("AuthService.login", credentials, -32001, token=None)  # until the reset
        client.post("/__emulator__/reset", json={})
        Api(client, second.login, second.password).relogin()


@pytest.mark.parametrize("change", [{"active": False}, {"apiAccess": False}], ids=["deactivated", "no API access"])
def test_an_emulator_started_with_an_api_user_that_cannot_log_in_says_a_reset_brings_it_back(
    started: list[EmulatorProcess], tmp_path: Path, change: dict[str, bool]
) -> None:
    state = tmp_path / "tenant.pickle"
    first = start_emulator("--seed", "3", "--size", "5", "--json", "--state-file", str(state))
    started.append(first)
    assert httpx.patch(f"{first.url}/__emulator__/records/users/1", json=change).status_code == 200
    first.stop()
    second = start_emulator("--seed", "3", "--size", "5", "--json", "--state-file", str(state))
    started.append(second)
    second.stderr.seek(0)
    assert "works after POST /__emulator__/reset" in second.stderr.read().decode()
    with httpx.Client(base_url=second.url, timeout=30) as client:
        client.post("/__emulator__/reset", json={})
        Api(client, second.login, second.password).relogin()


def test_a_state_file_an_older_emulator_saved_without_the_api_user_gives_the_seeds_login(
    started: list[EmulatorProcess], tmp_path: Path
) -> None:
    """An emulator before the API user's login was kept in the tenant saved no login with it: started from such a
    file whose API user was deleted, the emulator announced an empty login, and a reset made a user with it."""
    state = tmp_path / "tenant.pickle"
    first = start_emulator("--seed", "3", "--size", "5", "--json", "--state-file", str(state))
    started.append(first)
    assert httpx.delete(f"{first.url}/__emulator__/records/users/1").status_code == 204
    first.stop()
    with state.open("rb") as stored:
        tenant = pickle.load(stored)
    del tenant.api_credentials  # as an older emulator saved it
    with state.open("wb") as out:
        pickle.dump(tenant, out)
    second = start_emulator("--seed", "9", "--size", "5", "--json", "--state-file", str(state))
    started.append(second)
    assert (second.login, second.password) == (first.login, first.password)  # seed 3's, the tenant's own
    with httpx.Client(base_url=second.url, timeout=30) as client:
        client.post("/__emulator__/reset", json={})
        Api(client, second.login, second.password).relogin()


def emulator_command(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "recru_emulator", "--size", "5", "--json", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_a_busy_port_is_an_error_before_the_first_line(started: list[EmulatorProcess]) -> None:
    busy = start_emulator("--size", "5", "--json", port=free_port())
    started.append(busy)
    refused = emulator_command("--port", busy.url.rsplit(":", 1)[1])
    assert refused.returncode == 2
    assert refused.stdout == ""  # no {url, login, password} of a tenant that is not served
    assert "in use" in refused.stderr and "Traceback" not in refused.stderr


def test_a_state_file_it_cannot_read_or_write_is_an_error_at_start(tmp_path: Path) -> None:
    (tmp_path / "bad.state").write_text("garbage")
    for state_file, reason in (
        (tmp_path / "bad.state", "not a tenant"),
        (tmp_path / "no" / "x.state", "directory does not exist"),
        (tmp_path, "is a directory"),
    ):
        refused = emulator_command("--port", str(free_port()), "--state-file", str(state_file))
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert reason in refused.stderr and "Traceback" not in refused.stderr


def test_a_size_larger_than_the_largest_tenant_is_an_error_before_the_first_line() -> None:
    refused = emulator_command("--port", str(free_port()), "--size", "250001")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: --size must be") and "250000" in refused.stderr


def test_a_negative_size_through_atsbridge_emulator_is_the_emulators_error_line() -> None:
    command = [str(Path(sys.executable).parent / "atsbridge"), "emulator", "--size", "-1", "--port", str(free_port())]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("error: --size must be 0 or more")


def test_ctrl_c_stops_it_quietly_and_keeps_the_state(started: list[EmulatorProcess], tmp_path: Path) -> None:
    state = tmp_path / "tenant.pickle"
    process = start_emulator("--size", "5", "--json", "--state-file", str(state))
    started.append(process)
    process.proc.send_signal(signal.SIGINT)
    assert process.proc.wait(30) == 0
    process.stderr.seek(0)
    assert b"Traceback" not in process.stderr.read()
    assert state.exists()
