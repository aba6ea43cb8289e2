"""Attachments of a create: ``data`` (base64) or ``data_url`` (fetched by us, SSRF-safe), stored in RECRU with
the right type and readable back; every limit is checked before RECRU is called at all."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kombo import Kombo

from atsbridge.api import uploads
from atsbridge.unified.ids import ModelName
from integration.actions.conftest import ActionWorld, Files, candidate, refusal
from integration.sync.conftest import KEY
from support.api_server import serve_api

MiB = 1024 * 1024
PDF = b"%PDF-1.4\n% a CV\n" + bytes(range(256))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def create(world: ActionWorld, attachments: list[dict[str, Any]], sdk: Kombo | None = None) -> Any:
    return (sdk or world.kombo()).ats.create_application(
        job_id=f"remote:{world.open_job()['id']}", candidate=candidate(), attachments=attachments
    )


def test_files_are_stored_in_recru_with_their_type_and_read_back(world: ActionWorld, files: Files) -> None:
    letter = "Dobrý den, posílám motivační dopis.".encode()
    data = create(
        world,
        [
            {"name": "Životopis.pdf", "type": "CV", "content_type": "application/pdf", "data": b64(PDF)},
            {
                "name": "dopis.txt",
                "type": "COVER_LETTER",
                "data_url": files.redirect(files.url("dopis.txt", letter, "text/plain")),
            },
            {"name": "foto.png", "type": "OTHER", "data_url": files.url("foto", PNG, "image/png")},
            {"name": "cv.txt", "type": "OTHER", "data": base64.encodebytes(PDF).decode()},  # MIME: lines of 76
        ],
    ).data
    expected = {
        "Životopis.pdf": ("cv", "CV", "application/pdf", PDF),
        "dopis.txt": ("cover_letter", "COVER_LETTER", "text/plain", letter),
        "foto.png": ("other", "OTHER", "image/png", PNG),
        "cv.txt": ("other", "OTHER", "text/plain", PDF),
    }

    stored = world.recru.call(
        "AttachmentService.list", {"jobseekerId": int(data.candidate.remote_id), "applicationId": int(data.remote_id)}
    )["items"]
    assert {a["fileName"]: (a["type"], a["contentType"]) for a in stored} == {
        name: (recru_type, content_type) for name, (recru_type, _, content_type, _) in expected.items()
    }
    for item in stored:
        download = world.recru.call("AttachmentService.download", {"id": item["id"]})
        assert base64.b64decode(download["data"]) == expected[item["fileName"]][3]

    listed = world.kombo().ats.get_application_attachments(application_id=data.id).data.results
    assert {a.file_name: (a.type, a.content_type) for a in listed} == {
        name: (kind, content_type) for name, (_, kind, content_type, _) in expected.items()
    }
    for attachment in listed:
        assert httpx.get(attachment.data_url, timeout=10).content == expected[attachment.file_name][3]
    by_candidate = world.kombo().ats.get_candidate_attachments(candidate_id=data.candidate.id).data.results
    assert sorted(a.file_name for a in by_candidate) == sorted(expected)


def one(**fields: Any) -> list[dict[str, Any]]:
    return [{"name": "cv.pdf", "type": "CV", **fields}]


Case = Callable[[Files], list[dict[str, Any]]]
REFUSED: dict[str, Case] = {
    "both data and data_url": lambda f: one(data=b64(PDF), data_url=f.url("cv.pdf", PDF)),
    "neither": lambda f: one(content_type="application/pdf"),
    "bad base64": lambda f: one(content_type="application/pdf", data="this is not base64!"),
    "empty file": lambda f: one(content_type="application/pdf", data=""),
    "empty file by url": lambda f: one(data_url=f.url("cv.pdf", b"")),
    "too large": lambda f: one(content_type="application/pdf", data=b64(b"x" * (10 * MiB + 1))),
    "too large by url": lambda f: one(data_url=f.url("cv.pdf", b"x" * (10 * MiB + 1))),
    "too much in total": lambda f: [{**one(data_url=f.url("cv.pdf", b"x" * (9 * MiB)))[0]} for _ in range(3)],
    "too many": lambda f: one(content_type="text/plain", data=b64(b"hi")) * 11,
    "unsupported content type": lambda f: one(content_type="application/zip", data=b64(b"PK\x03\x04")),
    "unsupported by its name": lambda f: [{"name": "setup.exe", "type": "OTHER", "data": b64(b"MZ")}],
    "unsupported by the server": lambda f: one(data_url=f.url("cv", b"PK", "application/zip")),
    "url not found": lambda f: one(data_url=f"{f.url('x', b'')}/missing"),
    "file url": lambda f: one(data_url="file:///etc/passwd"),
    "metadata address": lambda f: one(data_url="http://169.254.169.254/latest/meta-data/"),
    "private address": lambda f: one(data_url="http://10.0.0.1/cv.pdf"),
    "shared address (RFC 6598)": lambda f: one(data_url="http://100.64.0.1/cv.pdf"),
    "6to4 address of loopback": lambda f: one(data_url="http://[2002:7f00:1::]/cv.pdf"),
    "IPv4-compatible address of loopback": lambda f: one(data_url="http://[::7f00:1]/cv.pdf"),
    "NAT64 address of the metadata address": lambda f: one(data_url="http://[64:ff9b::a9fe:a9fe]/cv.pdf"),
    "NAT64 local-use address of a private one": lambda f: one(data_url="http://[64:ff9b:1::a00:1]/cv.pdf"),
    "redirect to metadata": lambda f: one(data_url=f.redirect("http://169.254.169.254/latest/meta-data/")),
    "port out of range": lambda f: one(data_url="http://127.0.0.1:99999/cv.pdf"),
    "open bracket": lambda f: one(data_url="http://[::1/cv.pdf"),
    "name too long": lambda f: one(data_url=f"http://{'x' * 70}.example/cv.pdf"),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_attachment_is_400_before_recru_is_called(world: ActionWorld, files: Files, case: Case) -> None:
    attachments = case(files)
    job_id = f"remote:{world.open_job()['id']}"
    calls = world.counters()["calls"]
    status, code, message = refusal(
        lambda: world.kombo().ats.create_application(job_id=job_id, candidate=candidate(), attachments=attachments)
    )
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "attachments" in message
    assert world.counters()["calls"] == calls


def test_a_loopback_data_url_is_refused_unless_allow_listed(world: ActionWorld, files: Files, tmp_path: Path) -> None:
    url = files.url("cv.pdf", PDF)
    hits = files.hits
    with serve_api(world.engine, KEY, tmp_path) as strict:  # a second app on the store, without the allow-list
        sdk = Kombo(api_key=world.api_key, integration_id=world.integration.id, server_url=strict.v1)
        status, code, message = refusal(lambda: create(world, one(data_url=url), sdk))
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "allow" in message
    assert files.hits == hits  # not even fetched
    assert create(world, one(data_url=url)).data.remote_id is not None  # the allow-listed app fetches it
    assert files.hits == hits + 1


def test_a_data_url_dripping_its_file_is_given_up_at_the_deadline(
    world: ActionWorld, files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "FETCH_DEADLINE", 0.5)  # the app runs in this process; 30 s in production
    url = files.dripping("cv.pdf", PDF[:20], seconds_per_byte=0.2)
    started = time.monotonic()
    status, code, message = refusal(lambda: create(world, one(data_url=url)))
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "did not deliver the file within" in message
    assert time.monotonic() - started < 3


def test_a_public_url_is_the_origin_of_download_links(world: ActionWorld, tmp_path: Path) -> None:
    data = create(world, one(content_type="application/pdf", data=b64(PDF))).data
    with serve_api(world.engine, KEY, tmp_path, public_url="https://ats.example.com/") as proxied:
        sdk = Kombo(api_key=world.api_key, integration_id=world.integration.id, server_url=proxied.v1)
        (attachment,) = sdk.ats.get_application_attachments(application_id=data.id).data.results
    origin, path = "https://ats.example.com", attachment.data_url.removeprefix("https://ats.example.com")
    assert attachment.data_url == f"{origin}{path}" and path.startswith("/v1/attachment-downloads/")
    assert httpx.get(f"{world.server.url}{path}", timeout=10).content == PDF  # the proxy's path, on our host


def test_a_file_of_an_application_not_served_is_the_candidates_only(world: ActionWorld) -> None:
    """Syncing only created applications, a candidate's file sent with an application RECRU's users made is listed
    without that application's id: the API does not serve it, so the id would lead nowhere."""
    jobseeker = world.existing_jobseeker()
    older, job = world.new_project(), world.new_project()
    cv = {"type": "cv", "fileName": "older.pdf", "contentType": "application/pdf", "data": b64(PDF)}
    world.recru.call(
        "ApplicationService.create", {"projectId": older["id"], "jobseekerId": jobseeker["id"], "attachments": [cv]}
    )
    email = jobseeker["emails"][0]["value"]
    created = (
        world.kombo(world.tracked)
        .ats.create_application(
            job_id=f"remote:{job['id']}",
            candidate=candidate(email_address=email),
            attachments=[{"name": "new.pdf", "type": "CV", "content_type": "application/pdf", "data": b64(PDF)}],
        )
        .data
    )
    listed = world.kombo(world.tracked).ats.get_candidate_attachments(candidate_id=created.candidate.id).data.results
    assert {a.file_name: a.application_id for a in listed} == {"older.pdf": None, "new.pdf": created.id}
    everything = world.kombo().ats.get_candidate_attachments(candidate_id=f"remote:{jobseeker['id']}")
    older_id = next(a["id"] for a in world.applications_of(jobseeker["id"]) if a["projectId"] == older["id"])
    assert {a.file_name: a.application_id for a in everything.data.results} == {
        "older.pdf": world.id_of(ModelName.APPLICATIONS, older_id),
        "new.pdf": world.id_of(ModelName.APPLICATIONS, created.remote_id),
    }
