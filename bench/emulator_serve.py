"""Benchmark of the RECRU emulator: generation time of a big tenant and JobseekerService.list pages served per second.

Run: ``.venv/bin/python bench/emulator_serve.py [--size 100000] [--pages 300]``. It prints its figures; nothing is
asserted. The server runs in its own process (as in real use) with the rate limit off.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from emulator_process import start_emulator
from recru_emulator.generator import generate


def rpc(client: httpx.Client, method: str, params: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    result: dict[str, object] = client.post("/api/json-rpc", json=body, headers=headers).json()["result"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=300, help="pages of 200 jobseekers to fetch")
    args = parser.parse_args()

    started = time.perf_counter()
    data = generate(1, args.size)
    generation = time.perf_counter() - started
    print(
        f"generate(seed=1, size={args.size:,}): {generation:.1f} s "
        f"({len(data.jobseekers):,} jobseekers, {len(data.applications):,} applications)"
    )
    del data

    process, tenant = start_emulator(args.size)
    try:
        with httpx.Client(base_url=tenant["url"], timeout=60) as client:
            token = str(
                rpc(client, "AuthService.login", {"login": tenant["login"], "password": tenant["password"]})["token"]
            )
            latencies = []
            walk_started = time.perf_counter()
            for page in range(1, args.pages + 1):
                started = time.perf_counter()
                result = rpc(client, "JobseekerService.list", {"page": page, "perPage": 200}, token)
                latencies.append(time.perf_counter() - started)
                if not result["hasMore"]:
                    break
            walked = time.perf_counter() - walk_started
    finally:
        process.terminate()
        process.wait()
    latencies.sort()
    print(
        f"JobseekerService.list perPage=200: {len(latencies) / walked:.0f} pages/s "
        f"({len(latencies) * 200 / walked:,.0f} records/s) over {len(latencies)} pages; "
        f"median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms per page (client-side, incl. JSON parsing)"
    )


if __name__ == "__main__":
    main()
