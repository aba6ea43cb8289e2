"""The RECRU connector as data: one row per stream, read by the sync engine's one generic loop.

Order matters only for "sync only created applications": applications come before candidates, because that mode
reads the candidates of the tracked applications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atsbridge.connectors.recru.mapping import (
    Mapped,
    MappingContext,
    Payload,
    map_application,
    map_application_stage,
    map_candidate,
    map_job,
    map_tag,
    map_user,
)
from atsbridge.unified.ids import ModelName

PAGE_SIZE = 200

Mapper = Callable[[Payload, MappingContext], Mapped]


@dataclass(frozen=True)
class Stream:
    """``list_method`` feeds ``model`` through ``mapper``.

    ``get_method`` confirms a deletion candidate: set for paginated lists, whose offset pages drift when records
    vanish mid-listing. Unpaginated lists (stages, tags) come whole in one answer and need no confirmation; they
    also take no ``updatedSince``, so a DELTA run reads them whole (they are small).
    ``tracked``: in "sync only created applications" mode only the tracked records of this stream are read.
    ``codebooks``: the codebooks (``Codebooks.NAMES``) its mapping names entries from; a change to one of them
    changes records RECRU does not stamp as changed.
    """

    model: ModelName
    list_method: str
    mapper: Mapper
    get_method: str | None = None
    tracked: bool = False
    codebooks: tuple[str, ...] = ()

    @property
    def paginated(self) -> bool:
        return self.get_method is not None


STREAMS: tuple[Stream, ...] = (
    Stream(ModelName.USERS, "UserService.list", map_user, "UserService.get"),
    Stream(ModelName.APPLICATION_STAGES, "StageService.list", map_application_stage),
    Stream(ModelName.TAGS, "TagService.list", map_tag),
    Stream(
        ModelName.JOBS, "ProjectService.list", map_job, "ProjectService.get", codebooks=("departments", "locations")
    ),
    Stream(
        ModelName.APPLICATIONS,
        "ApplicationService.list",
        map_application,
        "ApplicationService.get",
        tracked=True,
        codebooks=("rejectionReasons",),
    ),
    Stream(ModelName.CANDIDATES, "JobseekerService.list", map_candidate, "JobseekerService.get", True),
)
