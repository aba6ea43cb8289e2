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
from pathlib import Path
from typing import Any

import httpx

from emulator_process import start_emulator

LISTS = ("UserService.list", "ProjectService.list", "JobseekerService.list", "ApplicationService.list")


def rpc(client: httpx.Client, method: str, params: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return client.post("/api/json-rpc", json=body, headers=headers).json()["result"]


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


class Cli:
    """The `atsbridge` command with its own store; `run` returns (parsed JSON stdout, seconds, peak RSS in MB)."""

    def __init__(self, data_dir: Path) -> None:
        self.env = {**os.environ, "ATSBRIDGE_DATA_DIR": str(data_dir), "ATSBRIDGE_DATABASE_URL": ""}

    def run(self, *args: str) -> tuple[Any, float, float]:
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
        return json.loads(output), elapsed, usage.ru_maxrss / 1024


def written(report: dict[str, Any]) -> int:
    return sum(c["created"] + c["updated"] + c["deleted"] for c in report["counts"].values())


def synced(report: dict[str, Any]) -> int:
    models = ("ats_users", "ats_jobs", "ats_application_stages", "ats_tags", "ats_candidates", "ats_applications")
    return sum(sum(report["counts"][m].values()) - report["counts"][m]["deleted"] for m in models)


def connect(cli: Cli, tenant: dict[str, str]) -> str:
    created, _, _ = cli.run(
        "integration", "create", "--tenant-url", tenant["url"], "--login", tenant["login"],
        "--password", tenant["password"], "--sync-all", "--json",
    )  # fmt: skip
    return str(created["id"])


def bench_size(size: int) -> None:
    process, tenant = start_emulator(size, rate_limit="off")
    try:
        records, seconds = raw_rate(tenant)
        print(
            f"[{size:,} jobseekers] raw serve rate: {records / seconds:,.0f} records/s ({records:,} in {seconds:.1f} s)"
        )
        with tempfile.TemporaryDirectory() as data_dir:
            cli = Cli(Path(data_dir))
            integration_id = connect(cli, tenant)
            full, full_seconds, rss = cli.run("sync", integration_id, "--full", "--json")
            rate = synced(full) / full_seconds
            print(f"[{size:,} jobseekers] FULL sync: {rate:,.0f} records/s end to end ({synced(full):,} in "
                  f"{full_seconds:.1f} s) = {rate / (records / seconds):.0%} of the raw rate; "
                  f"peak RSS of the sync process {rss:.0f} MB")  # fmt: skip
            again, again_seconds, _ = cli.run("sync", integration_id, "--full", "--json")
            print(f"[{size:,} jobseekers] FULL sync without changes: {written(again)} rows written "
                  f"({again_seconds:.1f} s)")  # fmt: skip
            with httpx.Client(base_url=tenant["url"]) as client:
                for jobseeker_id in range(1, 101):
                    path = f"/__emulator__/records/jobseekers/{jobseeker_id * (size // 100)}"
                    client.patch(path, json={"currentPosition": f"Změna {jobseeker_id}"}).raise_for_status()
            delta, delta_seconds, _ = cli.run("sync", integration_id, "--delta", "--json")
            delta_run, full_run = delta["timings"]["total"], full["timings"]["total"]
            print(f"[{size:,} jobseekers] DELTA after 100 changes: the run {delta_run:.2f} s = "
                  f"{delta_run / full_run:.2%} of the FULL run's {full_run:.1f} s; the whole command (interpreter "
                  f"start and imports included) {delta_seconds:.2f} s = {delta_seconds / full_seconds:.1%} of the "
                  f"FULL command's; {delta['counts']['ats_candidates']['updated']} candidates updated")  # fmt: skip
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
            _, seconds, _ = cli.run("sync", integration_id, "--full", "--json")
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
