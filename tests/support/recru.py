"""A plain client of a RECRU emulator for tests: JSON-RPC calls, complete listings and the test controls.

It is written from the spec, independent of the connector's client, so tests compare the store against what
RECRU itself answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from support.emulator_process import EmulatorProcess, start_emulator

LIST_METHODS = {
    "users": "UserService.list",
    "projects": "ProjectService.list",
    "jobseekers": "JobseekerService.list",
    "applications": "ApplicationService.list",
}


class Recru:
    def __init__(self, process: EmulatorProcess) -> None:
        self.process = process
        self.http = httpx.Client(base_url=process.url, timeout=60)
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self.token is None and method != "AuthService.login":
            self.token = self.call(
                "AuthService.login", {"login": self.process.login, "password": self.process.password}
            )["token"]
        headers = {"Authorization": f"Bearer {self.token}"} if method != "AuthService.login" else {}
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        answer = self.http.post("/api/json-rpc", json=body, headers=headers).json()
        if "error" in answer:
            if answer["error"]["code"] == -32002:
                self.token = None
                return self.call(method, params)
            raise AssertionError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def all(self, entity: str) -> list[dict[str, Any]]:
        """Every record of a paginated entity list, or the items of stages / tags."""
        if entity == "stages":
            return list(self.call("StageService.list")["items"])
        if entity == "tags":
            return list(self.call("TagService.list")["items"])
        items: list[dict[str, Any]] = []
        for page in itertools.count(1):
            result = self.call(LIST_METHODS[entity], {"page": page, "perPage": 200})
            items += result["items"]
            if not result["hasMore"]:
                return items
        raise AssertionError("unreachable")

    def codebook(self, name: str) -> dict[Any, dict[str, Any]]:
        return {entry["id"]: entry for entry in self.call("CodebookService.get", {"name": name})["items"]}

    def control(self, verb: str, path: str, body: Any = None) -> Any:
        response = self.http.request(verb, f"/__emulator__{path}", json=body)
        assert response.is_success, f"{verb} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create(self, entity: str, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = self.control("POST", f"/records/{entity}", fields)
        return record

    def patch(self, entity: str, record_id: int, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = self.control("PATCH", f"/records/{entity}/{record_id}", fields)
        return record

    def delete(self, entity: str, record_id: int) -> None:
        self.control("DELETE", f"/records/{entity}/{record_id}")

    def reset(self, seed: int, size: int) -> None:
        self.control("POST", "/reset", {"seed": seed, "size": size})
        self.control("DELETE", "/faults")
        self.control("PUT", "/rate-limit", {"perMinute": None})
        self.token = None


@contextmanager
def seeded_emulator(seed: int, size: int) -> Iterator[EmulatorProcess]:
    """An emulator process with a seeded tenant and no rate limit, stopped afterwards."""
    process = start_emulator("--seed", str(seed), "--size", str(size), "--rate-limit", "off", "--json")
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def fresh_tenant(process: EmulatorProcess, seed: int, size: int) -> Iterator[Recru]:
    """A client of ``process`` after a reset to the seeded tenant, with faults cleared and the real clock."""
    client = Recru(process)
    client.reset(seed, size)
    client.control("POST", "/clock", {"release": True})
    try:
        yield client
    finally:
        client.close()
