"""Schemathesis against the live server's own OpenAPI document: generated requests, valid and invalid, to every read
operation never get a 5xx, and every answer matches the documented status codes, content type and schemas.

(Schemathesis' pytest plugin does not run under pytest 9, so each operation's strategy is driven by Hypothesis here.)
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode

from integration.api.conftest import World

EXAMPLES = 15


def read_operations(world: World) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{world.server.v1}/openapi.json").include(method="GET")
    # Invalid data, as far as the API judges it: unknown query parameters are ignored (a client may send ones a newer
    # version of the API knows), and the API key is the test's own (a request without one is test_errors' subject).
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_read_operations_conform_to_the_openapi_document(world: World, mode: GenerationMode) -> None:
    operations = read_operations(world)
    assert {op.path for op in operations} >= {"/v1/ats/candidates", "/v1/check-api-key"}
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples on every run: CI stays reproducible
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Case) -> None:
            if mode is GenerationMode.POSITIVE and case.query:
                case.query.pop("cursor", None)  # opaque: only a `next` we issued is valid (see test_pagination)
            case.call_and_validate(headers=world.headers())

        try:
            conforms()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # only strings: no value breaks the schema
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)


def test_every_path_parameter_is_declared(world: World) -> None:
    """OpenAPI requires each ``{name}`` of a path template as a path parameter of each of its operations: a document
    without one is invalid (schemathesis and client generators stop there)."""
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    undeclared = [
        (method, path, name)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for name in re.findall(r"\{(\w+)\}", path)
        if {"in": "path", "name": name}
        not in [{"in": p["in"], "name": p["name"]} for p in operation.get("parameters", [])]
    ]
    assert not undeclared


def test_every_error_status_the_api_answers_is_documented_with_the_envelope(world: World) -> None:
    """The statuses of unified-api §1 and the README's (a body too large 413, an action past its deadline 504): an
    answer a client (or schemathesis' status check) finds undocumented breaks generated clients."""
    answered = {"400", "401", "403", "404", "409", "413", "422", "424", "429", "500", "502", "503", "504"}
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert answered <= set(operation["responses"]), (method, path, answered - set(operation["responses"]))
            for status in answered:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_the_general_endpoints_document_platform_codes_only(world: World) -> None:
    """unified-api §7: errors of the general endpoints carry PLATFORM.* codes or none; the /ats ones name theirs."""
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            named = {
                code
                for answer in operation["responses"].values()
                for code in re.findall(r"\b([A-Z]+)\.[A-Z_]+\b", answer["description"])
            }
            if path.startswith(("/v1/ats/", "/v1/attachment-downloads/")):  # a download link reads /ats data
                assert {"INTEGRATION", "REMOTE", "ATS"} <= named, (method, path, named)
            else:
                assert named <= {"PLATFORM"}, (method, path, named)


def test_a_download_is_documented_as_the_file_and_an_unknown_record_by_its_code(world: World) -> None:
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    download = document["paths"]["/v1/attachment-downloads/{token}"]["get"]["responses"]["200"]
    assert list(download["content"]) == ["*/*"]  # RECRU's content type, not JSON
    attachments = document["paths"]["/v1/ats/candidates/{candidate_id}/attachments"]["get"]["responses"]["404"]
    assert "record" in attachments["description"] and "PLATFORM.INPUT_INVALID" in attachments["description"]


def test_the_document_lists_only_error_answers_the_api_gives(world: World) -> None:
    # invalid input is answered 400 in the error envelope: FastAPI's request-validation 422 is never sent
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    assert not [name for name in document["components"]["schemas"] if "ValidationError" in name]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "422"):
                answer = operation["responses"].get(status)
                if answer is not None:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_the_api_key_is_a_bearer_security_scheme_of_every_keyed_operation(world: World) -> None:
    document = httpx.get(f"{world.server.v1}/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert [scheme for scheme in schemes.values() if scheme["type"] == "http" and scheme["scheme"] == "bearer"]
    unkeyed = {path for path in document["paths"] if path.startswith("/v1/attachment-downloads/")}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "authorization" not in headers, (method, path)
            assert bool(operation.get("security")) is (path not in unkeyed), (method, path)
    missing_key = httpx.get(f"{world.server.v1}/check-api-key")
    assert missing_key.status_code == 401
    assert missing_key.json()["error"]["code"] == "PLATFORM.AUTHENTICATION_INVALID"


def test_the_docs_page_reads_the_document_and_links_nothing_missing(world: World) -> None:
    page = httpx.get(f"{world.server.v1}/docs")
    assert page.status_code == 200
    assert "/v1/openapi.json" in page.text
    assert "oauth2-redirect" not in page.text  # no such page: bearer keys only
