"""``atsbridge demo``: the whole product on one machine, from nothing.

It starts the bundled RECRU emulator with a seeded tenant, creates a fresh SQLite store, an environment and an API
key, serves the API and the connect page, connects an integration through the real connection flow (create-link,
the hosted form with its CSRF token, the credential check), runs the first sync with progress bars, starts the
scheduler and webhook delivery, and prints what to try.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx
import uvicorn
from rich.console import Console
from sqlalchemy import Engine

from atsbridge.api.app import create_app
from atsbridge.api.http_protocol import EnvelopedH11Protocol
from atsbridge.api.server import Server
from atsbridge.config import KEY_FILE_ASIDE, SECRET_KEY_FILE, Settings
from atsbridge.private_dirs import make_private_dir
from atsbridge.progress import sync_progress
from atsbridge.store.api_keys import create_api_key
from atsbridge.store.db import SQLITE_FILE_NAME, create_engine, migrate
from atsbridge.store.integrations import ensure_environment
from atsbridge.store.syncs import FULL
from atsbridge.sync.runner import execute_sync
from atsbridge.sync.scheduler import queued_syncs

ENVIRONMENT = "demo"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
DEMO_MARKER = ".atsbridge-demo"
DEMO_STORE_FILES = frozenset({SQLITE_FILE_NAME, f"{SQLITE_FILE_NAME}-wal", f"{SQLITE_FILE_NAME}-shm", SECRET_KEY_FILE})


class DemoError(Exception):
    """The demo cannot start: the message says why and what to do."""


class DemoStopped(Exception):
    """A stop signal (Ctrl-C, SIGTERM) came before the demo served: the message says what was left undone."""


STOPPED_STARTING = "the demo was stopped as it started: nothing was connected nor synced"


@dataclass(frozen=True)
class Tenant:
    url: str
    login: str
    password: str


def ensure_free(port: int, option: str) -> None:
    """Refuse a port something already listens on (a foreign emulator there would be synced instead of ours)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: closed connections are no use
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DemoError(f"port {port} is in use; {option} chooses another") from None


def clear_store(data_dir: Path) -> TextIO:
    """Remove the demo store of an earlier run from ``data_dir`` and mark the directory as the demo's
    (``DEMO_MARKER``). Refuse a directory that holds anything but a marked demo store: ``--data-dir`` pointed at a
    real store (the same files, unmarked) or at another directory must never be emptied; and one a running demo
    uses (it holds a lock on the marker while it runs: the store is emptied only once that lock is ours). Returns
    the open marker: the lock lasts as long as it stays open (the process's life)."""
    if data_dir.exists():
        entries = list(data_dir.iterdir()) if data_dir.is_dir() else None
        if entries is None or (entries and not (data_dir / DEMO_MARKER).is_file()):
            raise DemoError(
                f"{data_dir} is not a demo store of an earlier run; give --data-dir an empty or new directory"
            )
        if any(not _demo_file(entry.name) for entry in entries):
            raise DemoError(f"{data_dir} holds more than a demo store; give --data-dir an empty or new directory")
    make_private_dir(data_dir)
    data_dir.chmod(0o700)  # the store holds candidates' personal data (an earlier version made it 0755)
    # kept open, not closed at the end of a block: the lock on it lasts while it is open
    marker = open(os.open(data_dir / DEMO_MARKER, os.O_RDWR | os.O_CREAT, 0o600), "r+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        marker.close()
        raise DemoError(
            f"another `atsbridge demo` runs on {data_dir}; stop it first, or give --data-dir another directory"
        ) from None
    for entry in data_dir.iterdir():
        if entry.name != DEMO_MARKER:
            entry.unlink()
    marker.truncate(0)
    marker.write("atsbridge demo store: `atsbridge demo` empties this directory on each run\n")
    marker.flush()
    return marker


def _demo_file(name: str) -> bool:
    """Whether a file of that name is one a demo store holds (a key file being written when its demo was killed
    included)."""
    return name in DEMO_STORE_FILES | {DEMO_MARKER} or name.startswith(KEY_FILE_ASIDE)


def start_emulator(port: int, size: int) -> tuple[subprocess.Popen[str], Tenant]:
    command = [sys.executable, "-m", "recru_emulator", "--port", str(port), "--seed", "1", "--size", str(size)]
    process = subprocess.Popen([*command, "--json"], stdout=subprocess.PIPE, text=True)
    try:
        return process, _serving_tenant(process)
    except BaseException:  # it did not start, or the demo was stopped meanwhile (Ctrl-C): the emulator goes too
        process.terminate()
        process.wait()
        raise


def _serving_tenant(process: subprocess.Popen[str]) -> Tenant:
    """The tenant the emulator announces, once it serves."""
    assert process.stdout is not None
    try:
        first = json.loads(process.stdout.readline())
    except ValueError:  # it refused its arguments (a --size too large, say) and said why on stderr
        raise DemoError("the RECRU emulator did not start (its error is above)") from None
    tenant = Tenant(first["url"], first["login"], first["password"])
    for _ in range(600):
        try:
            httpx.get(f"{tenant.url}/__emulator__/counters").raise_for_status()
            return tenant
        except httpx.HTTPError:
            if process.poll() is not None:
                raise DemoError("the RECRU emulator exited; is the port free?") from None
            time.sleep(0.1)
    raise DemoError("the RECRU emulator did not start")


async def connect_integration(api: httpx.AsyncClient, key: str, tenant: Tenant) -> tuple[str, str]:
    """Connect through the hosted flow as an end user would; returns (integration id, link)."""
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "end_user_email": "it@demo.example",
        "end_user_organization_name": "Demo s.r.o.",
        "integration_tool": "recruhr",
    }
    link = (await api.post("/v1/connect/create-link", json=body, headers=headers)).json()["data"]["link"]
    page = await api.get(link)
    csrf = CSRF_FIELD.search(page.text)
    if csrf is None:
        raise RuntimeError("the connect page has no form")
    form = {"csrf": csrf.group(1), "tenant": tenant.url, "login": tenant.login, "password": tenant.password}
    answer = await api.post(link, data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"the connect page refused the demo tenant's credentials ({answer.status_code})")
    token = link.rstrip("/").rsplit("/", 1)[1]
    exchanged = (await api.get(f"/v1/connect/integration-by-token/{token}", headers=headers)).json()
    integration_id: str = exchanged["data"]["id"]
    settings = {"sync_only_created_applications": False}
    await api.patch(f"/v1/integrations/{integration_id}/settings", json=settings, headers=headers)
    new_link = (await api.post("/v1/connect/create-link", json=body, headers=headers)).json()["data"]["link"]
    return integration_id, new_link


def _python() -> str:
    """The running interpreter, the one with the ``kombo`` SDK (``.venv/bin/python``), as a shell would name it."""
    relative = os.path.relpath(sys.executable)
    return sys.executable if relative.startswith("..") else relative


def instructions(console: Console, base: str, key: str, integration_id: str, link: str, tenant: Tenant) -> None:
    console.print(f"\n[bold green]atsbridge is running[/bold green] on {base}   (Ctrl-C stops everything)")
    print(f"""
  API key          {key}
  integration      {integration_id}
  RECRU emulator   {tenant.url}  (login {tenant.login}, password {tenant.password})
  OpenAPI          {base}/v1/openapi.json   docs: {base}/v1/docs
  connect page     {link}

Try it:

  curl -s -H 'Authorization: Bearer {key}' -H 'X-Integration-Id: {integration_id}' \\
       '{base}/v1/ats/candidates?page_size=2'

  {_python()} -c "
from kombo import Kombo
kombo = Kombo(api_key='{key}', integration_id='{integration_id}', server_url='{base}/v1')
jobs = kombo.ats.get_jobs(page_size=5).result.data.results
print([job.name for job in jobs])
"
""")


@dataclass
class Demo:
    settings: Settings
    engine: Engine
    key: str
    emulator: subprocess.Popen[str]
    tenant: Tenant
    lock: TextIO
    """The store's marker, locked while this demo runs (``clear_store``)."""


def demo_settings(data_dir: Path) -> Settings:
    """The demo's settings: the embedded default whatever the environment says (a SQLite file in ``data_dir``, the
    in-process scheduler), taking the emulator's address as a tenant."""
    return Settings(data_dir=data_dir, database_url=None, sync_runner="embedded", allow_custom_tenant_urls=True)


def prepare(data_dir: Path, emulator_port: int, size: int, console: Console) -> Demo:
    """A fresh store with the demo environment and its API key, and a running emulator."""
    ensure_free(emulator_port, "--emulator-port")
    lock = clear_store(data_dir)
    settings = demo_settings(data_dir)
    engine = create_engine(settings.resolved_database_url)
    migrate(engine)
    with engine.begin() as conn:
        key = create_api_key(conn, ensure_environment(conn, ENVIRONMENT))
    console.print(f"store: {settings.resolved_database_url}")
    console.print(f"starting the RECRU emulator with a seeded tenant ({size:,} jobseekers)…")
    emulator, tenant = start_emulator(emulator_port, size)
    return Demo(settings, engine, key, emulator, tenant, lock)


async def run_demo(demo: Demo, host: str, port: int, console: Console) -> None:
    """Serve, connect the integration and run its first sync; then serve until the stop signal. ``DemoStopped`` if
    it comes before the first sync has ended (the sync is stopped, recorded CANCELLED)."""
    app = create_app(demo.engine, demo.settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", http=EnvelopedH11Protocol)
    server = Server(config, app.state.syncs, reraise_signals=False)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        if serving.done() and not server.started and server.should_exit:
            raise DemoStopped(STOPPED_STARTING)
        if not server.started:
            raise DemoError(f"could not serve on {host}:{port}; is the port in use? (--port chooses another)")
        base = f"http://{host}:{port}"
        setting_up = asyncio.create_task(_connect_and_sync(demo, base, console))
        await asyncio.wait({setting_up, serving}, return_when=asyncio.FIRST_COMPLETED)
        if server.should_exit or not setting_up.done():  # stopped meanwhile: connecting failed, or the sync stops
            setting_up.cancel()
            await asyncio.gather(setting_up, return_exceptions=True)
            raise DemoStopped(
                "the demo was stopped before its first sync ended (a sync begun is recorded CANCELLED); "
                "its store is recreated at the next start"
            )
        integration_id, link = setting_up.result()
        await app.state.syncs.enable()
        instructions(console, base, demo.key, integration_id, link, demo.tenant)
        await serving
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        demo.emulator.terminate()
        demo.emulator.wait()


async def _connect_and_sync(demo: Demo, base: str, console: Console) -> tuple[str, str]:
    """Connect the integration through the connect flow and run its first sync: (integration id, connect link)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        integration_id, link = await connect_integration(api, demo.key, demo.tenant)
    console.print(f"connected integration {integration_id} through the connect flow; first sync:")
    with demo.engine.connect() as conn:
        sync_id = next(s for s, owner, kind in queued_syncs(conn) if owner == integration_id and kind == FULL)
    with sync_progress(console) as bars:
        result = await execute_sync(demo.engine, demo.settings, sync_id, integration_id, FULL, progress=bars)
    console.print(f"first sync: {result.state if result else 'not run'}")
    return integration_id, link
