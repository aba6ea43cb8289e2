"""What the API asks of a connector's write actions, independent of the ATS: the files to upload, the limits the
ATS sets on them, and the refusals an action can end in (each becomes one unified error code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class UploadLimits:
    """What the ATS accepts: bytes per file and per call, files per call, content types."""

    max_file_bytes: int
    max_total_bytes: int
    max_files: int
    content_types: frozenset[str]


@dataclass(frozen=True)
class PreparedFile:
    """An attachment ready to send: unified ``type`` (CV, COVER_LETTER, OTHER), content type and bytes."""

    name: str
    type: str
    content_type: str
    data: bytes


RefusalKind = Literal[
    "job_not_found",
    "job_closed",
    "application_exists",
    "application_unclaimed",
    "stage_not_allowed",
    "input_invalid",
    "remote_input_invalid",
    "candidate_not_found",
]


class ActionRefused(Exception):
    """The ATS (or our check before calling it) refused the action for a reason the client must fix."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
