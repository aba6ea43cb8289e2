"""Benchmark of the read API on a large tenant synced into SQLite.

Run: ``.venv/bin/python bench/api_read.py [--size 100000] [--data-dir DIR]``.
The emulated tenant is FULL-synced through the real CLI, ~1% of its applications are then changed in RECRU and
DELTA-synced, and ``atsbridge serve`` answers over HTTP. Printed, nothing asserted:

- ``GET /v1/ats/candidates?page_size=250`` walked to the end: median and p99 latency per page, records/s;
- the same walk as raw SQL on the same file, reading the same data the API returns: per page of 250 candidates
  (keyset over ``id``), the candidate rows, their live applications with the reader's joins (live job, live current
  stage, the stage's index in the job's pipeline) and their live tags joined to the tag rows, as plain ``sqlite3``
  queries of the stored values (no timestamp formatting, no JSON parsing or building); and the ratio API / raw;
- ``GET /v1/ats/applications?updated_after=<before the DELTA>`` (the ~1% changed): median and p99 per page;
- ``GET /v1/ats/candidates?email=…``: median and p99.

With ``--data-dir`` the synced store is kept there and a later run with the same directory skips the syncs (and
needs no emulator), so the read path can be measured again after a change.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from emulator_process import free_port, start_emulator
from sync_full import Cli, connect

CHANGED_SHARE = 100  # every 100th application changes: ~1%
STATE_FILE = "bench-api-read.json"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.1f} ms, p99 {percentile(seconds, 0.99) * 1000:.1f} ms"


def prepare(cli: Cli, size: int, database: Path) -> dict[str, Any]:
    """Sync the tenant, change ~1% of its applications in RECRU, DELTA-sync; the state later runs reuse."""
    process, tenant = start_emulator(size, rate_limit="off")
    try:
        integration_id = connect(cli, tenant)
        started = time.perf_counter()
        cli.run("sync", integration_id, "--full", "--json")
        print(f"[{size:,} jobseekers] FULL sync took {time.perf_counter() - started:.0f} s")
        with sqlite3.connect(database) as conn:
            rows = conn.execute(
                "SELECT remote_id FROM ats_applications WHERE integration_id = ? ORDER BY CAST(remote_id AS INTEGER)",
                (integration_id,),
            ).fetchall()
        changed = [int(remote) for (remote,) in rows[::CHANGED_SHARE]]
        with httpx.Client(base_url=f"{tenant['url']}/__emulator__") as client:
            for remote in changed:
                status = client.get(f"/records/applications/{remote}").json()["status"]
                # the outcome changes too (rejected and withdrawn are both DECLINED, no change of unified fields)
                new_status = "withdrawn" if status == "active" else "active"
                client.patch(f"/records/applications/{remote}", json={"status": new_status}).raise_for_status()
        before_delta = datetime.now(UTC)
        delta = cli.run("sync", integration_id, "--delta", "--json").report
        print(
            f"[{size:,} jobseekers] changed {len(changed):,} of {len(rows):,} applications in RECRU; DELTA updated "
            f"{delta['counts']['ats_applications']['updated']:,}"
        )
    finally:
        process.terminate()
        process.wait()
    key = cli.run("api-key", "create", "--json").report
    return {"integration_id": integration_id, "key": key["key"], "since": before_delta.isoformat(), "size": size}


def serve(cli: Cli) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "atsbridge.cli", "serve", "--port", str(port), "--no-syncs"],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/openapi.json")
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the API did not start")


def timed_walk(client: httpx.Client, path: str, params: dict[str, Any]) -> tuple[list[float], int]:
    """(seconds per page, records) of a whole list walk."""
    seconds: list[float] = []
    records = 0
    cursor = None
    while True:
        started = time.perf_counter()
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        seconds.append(time.perf_counter() - started)  # the whole body is read; parsing it is the client's part
        data = response.json()["data"]
        records += len(data["results"])
        cursor = data["next"]
        if cursor is None:
            return seconds, records


RAW_CANDIDATES = """
    SELECT id, remote_id, first_name, last_name, company, title, source, phone_numbers, email_addresses, location,
           custom_fields, remote_created_at, remote_updated_at, changed_at, remote_deleted_at
    FROM ats_candidates WHERE integration_id = ? AND remote_deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?
"""
RAW_APPLICATIONS = """
    SELECT a.integration_id, a.candidate_id, a.id, a.remote_id, a.outcome, a.rejection_reason_name, a.rejected_at,
           a.changed_at, a.remote_created_at, a.remote_updated_at, j.id, j.remote_id, j.name, s.id, s.remote_id,
           s.name, p."index"
    FROM ats_applications AS a
    LEFT JOIN ats_jobs AS j ON j.id = a.job_id AND j.remote_deleted_at IS NULL
    LEFT JOIN ats_application_stages AS s ON s.id = a.current_stage_id AND s.remote_deleted_at IS NULL
    LEFT JOIN ats_join_jobs_application_stages AS p
        ON p.job_id = a.job_id AND p.stage_id = a.current_stage_id AND p.remote_deleted_at IS NULL
    WHERE a.candidate_id IN ({ids}) AND a.remote_deleted_at IS NULL
"""
RAW_TAGS = """
    SELECT l.integration_id, l.candidate_id, t.id, t.name, t.remote_id
    FROM ats_join_candidates_tags AS l JOIN ats_tags AS t ON t.id = l.tag_id AND t.remote_deleted_at IS NULL
    WHERE l.candidate_id IN ({ids}) AND l.remote_deleted_at IS NULL
"""


def raw_walk(database: Path, integration_id: str, page_size: int) -> tuple[float, int, int]:
    """(seconds, candidate rows, nested rows) of the same keyset walk as plain SQL: per page the candidates, then
    their applications and tags with the joins the reader makes for the nested objects."""
    with sqlite3.connect(database) as conn:
        started = time.perf_counter()
        rows = nested = 0
        last = ""
        while True:
            page = conn.execute(RAW_CANDIDATES, (integration_id, last, page_size)).fetchall()
            ids = [row[0] for row in page]
            if ids:
                marks = ", ".join("?" * len(ids))
                nested += len(conn.execute(RAW_APPLICATIONS.format(ids=marks), ids).fetchall())
                nested += len(conn.execute(RAW_TAGS.format(ids=marks), ids).fetchall())
            rows += len(page)
            if len(page) < page_size:
                return time.perf_counter() - started, rows, nested
            last = ids[-1]


def measure(cli: Cli, state: dict[str, Any], database: Path) -> None:
    size = state["size"]
    server, url = serve(cli)
    headers = {"Authorization": f"Bearer {state['key']}", "X-Integration-Id": state["integration_id"]}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            timed_walk(client, "/ats/candidates", {"page_size": 250, "ids": "warm-up"})
            started = time.perf_counter()
            seconds, records = timed_walk(client, "/ats/candidates", {"page_size": 250})
            api_total = time.perf_counter() - started
            answered = sum(seconds)
            print(
                f"[{size:,}] GET /ats/candidates?page_size=250, {len(seconds)} pages: {figures(seconds)}; "
                f"{records / api_total:,.0f} records/s for the client's walk ({records:,} in {api_total:.1f} s, "
                f"of which {answered:.1f} s waiting for answers, the rest parsing them)"
            )
            raw_total, rows, nested = raw_walk(database, state["integration_id"], 250)
            print(
                f"[{size:,}] raw SQL keyset walk of the same data: {rows / raw_total:,.0f} candidates/s ({rows:,} "
                f"candidates and {nested:,} application and tag rows in {raw_total:.2f} s); "
                f"API / raw = {answered / raw_total:.1f}× (answers only), {api_total / raw_total:.1f}× (whole walk)"
            )
            changed: list[float] = []
            for _ in range(5):
                page_seconds, found = timed_walk(client, "/ats/applications", {"updated_after": state["since"]})
                changed += page_seconds
            print(f"[{size:,}] GET /ats/applications?updated_after=… ({found:,} records, {len(changed)} pages over "
                  f"5 walks of 100): {figures(changed)}")  # fmt: skip
            emails = [
                r["email_addresses"][0]["email_address"].upper()
                for r in client.get("/ats/candidates", params={"page_size": 50}).json()["data"]["results"]
                if r["email_addresses"]
            ]
            by_email = []
            for email in emails:
                started = time.perf_counter()
                client.get("/ats/candidates", params={"email": email}).raise_for_status()
                by_email.append(time.perf_counter() - started)
            print(f"[{size:,}] GET /ats/candidates?email=… ({len(by_email)} queries): {figures(by_email)}")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000, help="jobseekers in the emulated tenant")
    parser.add_argument("--data-dir", type=Path, help="keep the synced store here and reuse it on later runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        data_dir = (args.data_dir or Path(temporary)).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        cli = Cli(data_dir)
        database = data_dir / "atsbridge.sqlite3"
        state_file = data_dir / STATE_FILE
        if state_file.exists():
            state = json.loads(state_file.read_text())
            print(f"[{state['size']:,} jobseekers] reusing the store in {data_dir}")
        else:
            state = prepare(cli, args.size, database)
            state_file.write_text(json.dumps(state))
        measure(cli, state, database)


if __name__ == "__main__":
    main()
