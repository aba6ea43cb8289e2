"""Benchmark of FULL and DELTA syncs of an emulated RECRU tenant into SQLite.

Run: ``.venv/bin/python bench/sync_full.py [--sizes 25000 100000] [--rate-limited-size 6000]``.
For each size, in one run: the emulator's raw serve rate (every list walked, pages fetched and parsed, no mapping,
no storing), a FULL sync through the real CLI (records/s end to end, peak RSS of the sync process), a second FULL
with no changes (rows written), and a DELTA after 100 changes (time against the FULL's: the runs' own time, as each
run reports it, and the whole commands'). Then a FULL under RECRU's default rate limit (120 calls/min) against the
minimum that limit allows. Figures are printed, nothing asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from emulator_process import start_emulator

LISTS = ("UserService.list", "ProjectService.list", "JobseekerService.list", "ApplicationService.list")


def rpc(client: httpx.Client, method: str, params: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return client.post("/api/json-rpc", json=body, headers=headers).json()["result"]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far; 0 where ``/proc`` is not there to tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_rate(tenant: dict[str, str]) -> tuple[int, float]:
    """(records, seconds) to fetch and parse every record of the tenant, page by page, with one client."""
    with httpx.Client(base_url=tenant["url"], timeout=120) as client:
        token = rpc(client, "AuthService.login", {"login": tenant["login"], "password": tenant["password"]})["token"]
        started = time.perf_counter()
        records = len(rpc(client, "StageService.list", {}, token)["items"]) + len(
            rpc(client, "TagService.list", {}, token)["items"]
        )
        for method in LISTS:
            page = 1
            while True:
                result = rpc(client, method, {"page": page, "perPage": 200}, token)
                records += len(result["items"])
                if not result["hasMore"]:
                    break
                page += 1
        return records, time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    """One `atsbridge` command: its parsed JSON output, wall seconds, CPU seconds and peak RSS in MB."""

    report: Any
    seconds: float
    cpu: float
    rss: float


class Cli:
    """The `atsbridge` command with its own store."""

    def __init__(self, data_dir: Path) -> None:
        self.env = {**os.environ, "ATSBRIDGE_DATA_DIR": str(data_dir), "ATSBRIDGE_DATABASE_URL": ""}

    def run(self, *args: str) -> Run:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "atsbridge.cli", *args], env=self.env, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"atsbridge {' '.join(args)} failed: {output}")
        return Run(json.loads(output), elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def written(report: dict[str, Any]) -> int:
    return sum(c["created"] + c["updated"] + c["deleted"] for c in report["counts"].values())


def synced(report: dict[str, Any]) -> int:
    models = ("ats_users", "ats_jobs", "ats_application_stages", "ats_tags", "ats_candidates", "ats_applications")
    return sum(sum(report["counts"][m].values()) - report["counts"][m]["deleted"] for m in models)


def connect(cli: Cli, tenant: dict[str, str]) -> str:
    created = cli.run(
        "integration", "create", "--tenant-url", tenant["url"], "--login", tenant["login"],
        "--password", tenant["password"], "--sync-all", "--json",
    )  # fmt: skip
    return str(created.report["id"])


def bench_size(size: int) -> None:
    process, tenant = start_emulator(size, rate_limit="off")
    label = f"[{size:,} jobseekers]"
    try:
        emulator_before, client_before = cpu_seconds(process.pid), time.process_time()
        records, seconds = raw_rate(tenant)
        raw_cpu = cpu_seconds(process.pid) - emulator_before + time.process_time() - client_before
        print(f"{label} raw serve rate: {records / seconds:,.0f} records/s ({records:,} in {seconds:.1f} s; CPU: "
              f"{raw_cpu:.1f} s, client and emulator)")  # fmt: skip
        with tempfile.TemporaryDirectory() as data_dir:
            cli = Cli(Path(data_dir))
            integration_id = connect(cli, tenant)
            emulator_before = cpu_seconds(process.pid)
            full = cli.run("sync", integration_id, "--full", "--json")
            full_cpu = full.cpu + cpu_seconds(process.pid) - emulator_before
            rate = synced(full.report) / full.seconds
            print(f"{label} FULL sync: {rate:,.0f} records/s end to end ({synced(full.report):,} in "
                  f"{full.seconds:.1f} s) = {rate / (records / seconds):.0%} of the raw rate; "
                  f"peak RSS of the sync process {full.rss:.0f} MB")  # fmt: skip
            cores = os.cpu_count() or 1
            print(f"{label} CPU per record: raw walk {raw_cpu / records * 1e6:.0f} µs, FULL sync "
                  f"{full_cpu / synced(full.report) * 1e6:.0f} µs ({full.cpu:.1f} s sync process + "
                  f"{full_cpu - full.cpu:.1f} s emulator); with {cores} cores fully used the FULL could take no less "
                  f"than {full_cpu / cores:.1f} s: at this CPU cost at most "
                  f"{cores * raw_cpu / records / (full_cpu / synced(full.report)):.0%} of the raw rate")  # fmt: skip
            again = cli.run("sync", integration_id, "--full", "--json")
            print(f"{label} FULL sync without changes: {written(again.report)} rows written ({again.seconds:.1f} s)")
            with httpx.Client(base_url=tenant["url"]) as client:
                for jobseeker_id in range(1, 101):
                    path = f"/__emulator__/records/jobseekers/{jobseeker_id * (size // 100)}"
                    client.patch(path, json={"currentPosition": f"Změna {jobseeker_id}"}).raise_for_status()
            delta = cli.run("sync", integration_id, "--delta", "--json")
            delta_run, full_run = delta.report["timings"]["total"], full.report["timings"]["total"]
            updated = delta.report["counts"]["ats_candidates"]["updated"]
            print(f"{label} DELTA after 100 changes: the run {delta_run:.2f} s = "
                  f"{delta_run / full_run:.2%} of the FULL run's {full_run:.1f} s; the whole command (interpreter "
                  f"start and imports included) {delta.seconds:.2f} s = {delta.seconds / full.seconds:.1%} of the "
                  f"FULL command's; {updated} candidates updated")  # fmt: skip
    finally:
        process.terminate()
        process.wait()


def bench_rate_limited(size: int) -> None:
    process, tenant = start_emulator(size, rate_limit="120")
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            cli = Cli(Path(data_dir))
            integration_id = connect(cli, tenant)
            httpx.get(f"{tenant['url']}/__emulator__/counters")
            before = sum(httpx.get(f"{tenant['url']}/__emulator__/counters").json()["calls"].values())
            seconds = cli.run("sync", integration_id, "--full", "--json").seconds
            calls = sum(httpx.get(f"{tenant['url']}/__emulator__/counters").json()["calls"].values()) - before
            minimum = calls / 120 * 60
            print(
                f"[{size:,} jobseekers, 120 calls/min] FULL sync: {seconds:.1f} s for {calls} calls; the limit allows "
                f"it in {minimum:.1f} s at the least (calls ÷ rate): {seconds / minimum:.2f}× the minimum"
            )
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000])
    parser.add_argument("--rate-limited-size", type=int, default=6_000)
    args = parser.parse_args()
    for size in args.sizes:
        bench_size(size)
    bench_rate_limited(args.rate_limited_size)


if __name__ == "__main__":
    main()
