"""Tag actions against RECRU: add a tag to a jobseeker, take one away. RECRU cannot create tags: a name is matched
(trimmed, case-insensitive, composed) against ``TagService.list``."""

from __future__ import annotations

import unicodedata
from typing import Any

from atsbridge.connectors.base import ActionRefused
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruNotFound


def same_name(stored: str, given: str) -> bool:
    """Whether a tag named ``stored`` is the one ``given`` names, as the tag actions match names (``_tag_key``)."""
    return _tag_key(stored) == _tag_key(given)


def _tag_key(name: str) -> str:
    """A tag name as compared: trimmed, case-folded, and composed (NFC), so "kandidát" typed with a combining
    accent (NFD, as some keyboards and macOS file names give it) is the tag RECRU holds composed."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def _named_exactly(tag: dict[str, Any], name: str) -> bool:
    return unicodedata.normalize("NFC", str(tag["name"]).strip()) == unicodedata.normalize("NFC", name.strip())


async def _tags_named(client: RecruClient, name: str) -> list[dict[str, Any]]:
    """RECRU's tags of that name (``_tag_key``), the one named exactly so (if any) first."""
    wanted = _tag_key(name)
    matching = [tag for tag in await client.list_all("TagService.list") if _tag_key(str(tag["name"])) == wanted]
    return sorted(matching, key=lambda tag: not _named_exactly(tag, name))


async def add_tag(client: RecruClient, jobseeker_id: int, name: str) -> dict[str, Any]:
    """Give the jobseeker RECRU's tag of that name: the one named exactly so, else, of tags differing only in case,
    one the jobseeker holds already (nothing changes), else the first."""
    tags = await _tag_to_act_on(client, jobseeker_id, name)
    if not tags:
        raise ActionRefused(
            "remote_input_invalid",
            f"RECRU has no tag named {name.strip()!r}, and RECRU cannot create tags through its API: "
            "create the tag in RECRU first, then add it again.",
        )
    await _tag_call(client, "JobseekerService.addTag", jobseeker_id, tags[0])
    return tags[0]


async def remove_tag(client: RecruClient, jobseeker_id: int, name: str) -> dict[str, Any] | None:
    """Take RECRU's tag of that name from the jobseeker: the one named exactly so, else, of tags differing only in
    case, the one the jobseeker holds."""
    tags = await _tag_to_act_on(client, jobseeker_id, name)
    if tags:
        await _tag_call(client, "JobseekerService.removeTag", jobseeker_id, tags[0])
    return tags[0] if tags else None


NOT_IN_RECRU = "RECRU does not have this candidate: it was deleted, or never existed."


async def _tag_to_act_on(client: RecruClient, jobseeker_id: int, name: str) -> list[dict[str, Any]]:
    """RECRU's tags of that name, the one to act on first: the one named exactly so, else (of tags differing only
    in case) one the jobseeker holds."""
    tags = await _tags_named(client, name)
    if len(tags) > 1 and not _named_exactly(tags[0], name):
        try:
            held = set((await client.call("JobseekerService.get", {"id": jobseeker_id}))["tagIds"])
        except RecruNotFound as missing:
            raise ActionRefused("candidate_not_found", NOT_IN_RECRU) from missing
        tags = sorted(tags, key=lambda tag: tag["id"] not in held)
    return tags


TAG_CALLS = frozenset({"JobseekerService.addTag", "JobseekerService.removeTag"})
"""The calls of a tag action that change RECRU (``add_tag``, ``remove_tag``)."""


async def _tag_call(client: RecruClient, method: str, jobseeker_id: int, tag: dict[str, Any]) -> None:
    try:
        await client.call(method, {"jobseekerId": jobseeker_id, "tagId": tag["id"]})
    except RecruNotFound as missing:
        if missing.entity == "jobseeker":
            raise ActionRefused("candidate_not_found", NOT_IN_RECRU) from missing
        raise ActionRefused("remote_input_invalid", f"RECRU has no {missing.entity} {missing.id}.") from missing
