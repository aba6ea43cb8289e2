"""Schemathesis against the live server's own OpenAPI document: generated requests, valid and invalid, to every read
operation never get a 5xx, and every answer matches the documented status codes, content type and schemas.

(Schemathesis' pytest plugin does not run under pytest 9, so each operation's strategy is driven by Hypothesis here.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode

from integration.api.conftest import World

EXAMPLES = 15


def read_operations(world: World) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{world.server.v1}/openapi.json").include(method="GET")
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
