"""Request bodies read as strict JSON: Python's parser also takes ``NaN``, ``Infinity`` and ``-Infinity``, which JSON
has not (RFC 8259), so a body holding one would pass wherever the field is ignored (an unknown key, say); and it
takes an object naming a key twice, keeping the last value, where a proxy or a validator before us may read the
first (RFC 8259: such an object's meaning is unpredictable): both are refused.

Every router is made with ``route_class=StrictJsonRoute``; a body that is not JSON is answered by the app's handler
of FastAPI's ``json_invalid`` error (``not_json_message``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class _NotJsonConstant(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJsonConstant(name)


NOWHERE = -1
"""The position of a ``json.JSONDecodeError`` with none to tell (a key named twice: the parser does not say where)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = next(key for index, (key, _) in enumerate(pairs) if key in dict(pairs[:index]))
        named = json.dumps(twice if len(twice) <= 200 else f"{twice[:200]}…", ensure_ascii=False)  # not kilobytes
        raise json.JSONDecodeError(f"the key {named} is given twice in one object", "", NOWHERE)
    return found


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` without the non-JSON constants and with each key once per object: a mistake of either kind is a
    ``json.JSONDecodeError`` like any other (bytes that are not UTF-8 raise as they do in ``json.loads``)."""
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as undecodable:  # told as any other mistake, with where (FastAPI says nothing)
        raise json.JSONDecodeError(f"byte {undecodable.start + 1} is not UTF-8 text", "", NOWHERE) from None
    except RecursionError:
        raise json.JSONDecodeError("it is nested too deeply to be read", "", NOWHERE) from None
    except _NotJsonConstant as constant:
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise json.JSONDecodeError(
            f"{constant} is not a JSON value", doc, _outside_strings(doc, str(constant))
        ) from None


def _outside_strings(doc: str, constant: str) -> int:
    """Where the first ``constant`` outside a string stands in ``doc`` (the parser does not say)."""
    in_string = escaped = False
    for position, char in enumerate(doc):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif doc.startswith(constant, position):
            return position
    return 0


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def not_json_message(problem: dict[str, Any], body: Any) -> str:
    """What a client is told of FastAPI's ``json_invalid`` ``problem``: the parser's complaint and where, as a line and
    a column of the ``body`` (the offset FastAPI gives alone means little)."""
    complaint = str(problem.get("ctx", {}).get("error", "not JSON"))
    location = problem.get("loc", ())
    where = ""
    if isinstance(body, str) and len(location) > 1 and isinstance(location[1], int) and location[1] != NOWHERE:
        offset = location[1]
        line = body.count("\n", 0, offset) + 1
        column = offset - body.rfind("\n", 0, offset)
        where = f" (line {line}, column {column})"
    return f"The request body is not valid JSON: {complaint}{where}."
