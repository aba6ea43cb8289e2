"""``atsbridge env``: environments made and listed from the command line, the same ones API keys name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unit.test_cli_errors import atsbridge


def test_an_environment_is_made_once_and_listed_with_its_keys_and_integrations(tmp_path: Path) -> None:
    empty = atsbridge(tmp_path, "env", "list", "--json")
    assert (empty.returncode, json.loads(empty.stdout)) == (0, {"environments": []})

    made = atsbridge(tmp_path, "env", "create", " acme ", "--json")
    assert made.returncode == 0, made.stderr
    acme = json.loads(made.stdout)
    assert (acme["name"], acme["created"]) == ("acme", True)
    again = atsbridge(tmp_path, "env", "create", "acme")
    assert (again.returncode, again.stdout.strip()) == (0, acme["id"])  # the id alone, as `api-key create` its key
    assert "exists already" in again.stderr
    key = json.loads(atsbridge(tmp_path, "api-key", "create", "--environment", "acme", "--json").stdout)
    assert key["environment_id"] == acme["id"]
    atsbridge(tmp_path, "api-key", "create", "--environment", "beta")

    listed = json.loads(atsbridge(tmp_path, "env", "list", "--json").stdout)["environments"]
    assert [(e["name"], e["api_keys"], e["integrations"]) for e in listed] == [("acme", 1, 0), ("beta", 1, 0)]
    assert listed[0]["id"] == acme["id"] and listed[0]["created_at"].endswith("Z")
    table = atsbridge(tmp_path, "env", "list").stdout.splitlines()
    assert table[0].split() == ["id", "name", "api", "keys", "integrations", "created"]
    assert table[1].split()[:4] == [acme["id"], "acme", "1", "0"]


@pytest.mark.parametrize(
    ("name", "told"),
    [("   ", "NAME must name an environment"), ("a\tb", "control characters"), ("a\x1b[31mb", "control characters")],
    ids=["blank", "a tab", "an escape sequence"],
)
def test_a_blank_or_garbling_environment_name_makes_nothing(tmp_path: Path, name: str, told: str) -> None:
    refused = atsbridge(tmp_path, "env", "create", name, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "INPUT_INVALID"
    assert told in refused.stderr
    assert json.loads(atsbridge(tmp_path, "env", "list", "--json").stdout) == {"environments": []}


def test_a_name_typed_composed_or_decomposed_is_one_environment(tmp_path: Path) -> None:
    composed = json.loads(atsbridge(tmp_path, "env", "create", "Caf\u00e9", "--json").stdout)
    decomposed = json.loads(atsbridge(tmp_path, "api-key", "create", "--environment", "Cafe\u0301", "--json").stdout)
    assert decomposed["environment_id"] == composed["id"]
