"""Query parameters of the list endpoints (unified-api §2, §7): one pydantic model per list, parsed into a
``ListQuery``. Lists are comma-joined; ``updated_after`` takes a date or a date-time (naive = UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from fastapi import Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from atsbridge.store.reader import BadQuery, ListQuery

MAX_PAGE_SIZE = 250
CREATED_AFTER = "created in RECRU at or after this instant (a date: that day's midnight UTC)"
# Blank is no value for these: refused (400), as their documented formats have no blank.
NEVER_BLANK = ("page_size", "include_deleted", "ignore_unsupported_filters", "updated_after", "remote_created_after")

Instant = Annotated[
    str | None,
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}),
]
"""A query parameter holding an instant: parsed by ``parse_instant``, documented as a date-time or a date."""


def _true_or_false(value: Any) -> Any:
    """``true`` or ``false`` (any case), what the SDK sends; pydantic's other spellings (``yes``, ``on``, ``1``, ``t``)
    are refused, so a flag means one thing only."""
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise ValueError("must be true or false")
        return value.strip().lower() == "true"
    return value


Flag = Annotated[bool, BeforeValidator(_true_or_false)]
"""A query flag: ``true`` or ``false``."""


# RFC 3339's date and date-time (a naive one too), and an offset with seconds as Python writes a historical zone's
# (+00:19:32): Python's parser also takes ISO 8601's other forms (week dates, 20261207, +0200, hours alone,
# "12:00:00.Z"), which a client sending them most likely means something else by
INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.(?P<fraction>\d+))?)?(Z|[+-]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?)?"
)
INSTANT_FORMS = "RFC 3339: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fraction]] with Z, ±HH:MM or no offset (UTC)"
_UNESCAPED_PLUS = re.compile(r" \d{2}:\d{2}$")  # "…T12:00:00+02:00" sent unescaped: a query reads its "+" as a space


def parse_instant(name: str, value: str, *, round_up: bool = False) -> datetime:
    """A date (midnight UTC) or a date-time with or without offset (naive = UTC; ``INSTANT``), in UTC; RFC 3339's
    lower-case ``t`` and ``z`` too. Digits beyond a microsecond are cut, or with ``round_up`` carried up to the next
    microsecond (a bound that takes the instant itself: what is stamped before it stays out). An instant that falls
    outside years 1 to 9999 in UTC (a time zone's offset beyond the calendar's ends) is the calendar's first or last
    microsecond: nothing lies beyond either."""
    text = value.strip().upper()
    form = INSTANT.fullmatch(text)
    try:
        if form is None:
            raise ValueError("not a date or date-time")
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        message = f"`{name}` must be a date or date-time ({INSTANT_FORMS}), e.g. 2026-01-31T12:00:00Z"
        if _UNESCAPED_PLUS.search(value.strip()):
            message += "; a '+' of an offset must be sent as %2B in a URL"
        raise BadQuery(message) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        offset = moment.utcoffset()
        return (
            datetime.max.replace(tzinfo=UTC) if offset and offset < timedelta(0) else datetime.min.replace(tzinfo=UTC)
        )
    fraction = form["fraction"] or ""
    if round_up and fraction[6:].strip("0") and moment < datetime.max.replace(tzinfo=UTC):
        moment += timedelta(microseconds=1)
    return moment


def split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class ListParams(BaseModel):
    """Parameters every list takes."""

    model_config = ConfigDict(extra="ignore")
    list_filters: ClassVar[tuple[str, ...]] = ()
    instant_filters: ClassVar[tuple[str, ...]] = ()

    cursor: str | None = Field(None, description="`data.next` of the previous page")
    page_size: int = Field(100, ge=1, le=MAX_PAGE_SIZE, description="records per page, 1 to 250")
    updated_after: Instant = Field(
        None, description="only records whose own fields or tracked nested data changed after this instant"
    )
    include_deleted: Flag = Field(False, description="also return records deleted in the ATS")
    ignore_unsupported_filters: Flag = Field(
        False, description="ignore filters on fields RECRU does not provide instead of matching nothing"
    )
    ids: str | None = Field(None, description="comma-separated ids")
    remote_ids: str | None = Field(None, description="comma-separated RECRU ids")

    @field_validator("*", mode="before")
    @classmethod
    def blank_is_absent(cls, value: Any, info: ValidationInfo) -> Any:
        """A filter (or cursor) given blank, as ``statuses=``, is not given: "leave this blank to get results
        matching all values" (Kombo's filter docs). Instants, numbers and flags are refused blank."""
        if isinstance(value, str) and not value.strip() and info.field_name not in NEVER_BLANK:
            return None
        return value

    def to_query(self) -> ListQuery:
        filters: dict[str, Any] = {}
        common = set(ListParams.model_fields)
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in common or value is None:
                continue
            if name in self.list_filters:
                if split(value):  # only commas and blanks: not given
                    filters[name] = split(value)
            elif name in self.instant_filters:
                filters[name] = parse_instant(name, value, round_up=True)  # "on or after": the bound itself in
            else:
                filters[name] = value
        return ListQuery(
            page_size=self.page_size,
            cursor=self.cursor,
            updated_after=None if self.updated_after is None else parse_instant("updated_after", self.updated_after),
            include_deleted=self.include_deleted,
            ignore_unsupported_filters=self.ignore_unsupported_filters,
            ids=None if self.ids is None else split(self.ids) or None,
            remote_ids=None if self.remote_ids is None else split(self.remote_ids) or None,
            filters=filters,
        )


def _upper_list(value: str | None) -> str | None:
    """Enum values are upper-case: ``open`` finds OPEN."""
    return None if value is None else value.upper()


OUTCOMES = ("PENDING", "HIRED", "DECLINED")


class UsersParams(ListParams):
    list_filters: ClassVar[tuple[str, ...]] = ("emails",)
    emails: str | None = Field(None, description="comma-separated e-mail addresses (case-insensitive)")


class JobsParams(ListParams):
    list_filters: ClassVar[tuple[str, ...]] = ("job_codes", "statuses", "employment_types", "visibilities")
    instant_filters: ClassVar[tuple[str, ...]] = ("remote_created_after",)
    job_codes: str | None = Field(None, description="comma-separated job codes")
    post_url: str | None = Field(None, description="RECRU has no post URLs: matches nothing unless ignored")
    statuses: str | None = Field(None, description="comma-separated: OPEN, CLOSED, DRAFT, ARCHIVED")
    employment_types: str | None = Field(None, description="comma-separated employment types")
    visibilities: str | None = Field(None, description="comma-separated: PUBLIC, INTERNAL, UNLISTED, CONFIDENTIAL")
    remote_created_after: Instant = Field(None, description=CREATED_AFTER)
    name_contains: str | None = Field(None, description="case-insensitive part of the job name")

    _enums_upper = field_validator("statuses", "employment_types", "visibilities")(_upper_list)


class CandidatesParams(ListParams):
    list_filters: ClassVar[tuple[str, ...]] = ("job_ids",)
    email: str | None = Field(None, description="an e-mail address of the candidate (case-insensitive)")
    job_ids: str | None = Field(None, description="comma-separated ids of jobs the candidate applied to")
    first_name: str | None = Field(None, description="case-insensitive exact first name")
    last_name: str | None = Field(None, description="case-insensitive exact last name")


class ApplicationsParams(ListParams):
    list_filters: ClassVar[tuple[str, ...]] = ("outcomes", "job_ids", "job_remote_ids", "current_stage_ids")
    instant_filters: ClassVar[tuple[str, ...]] = ("remote_created_after",)
    outcomes: str | None = Field(
        None,
        description="comma-separated: PENDING, HIRED, DECLINED",
        json_schema_extra={"pattern": r"^\s*(?:(?:PENDING|HIRED|DECLINED|pending|hired|declined)\s*(?:,\s*|$))*$"},
    )
    job_ids: str | None = Field(None, description="comma-separated job ids")
    job_remote_ids: str | None = Field(None, description="comma-separated RECRU project ids")
    current_stage_ids: str | None = Field(None, description="comma-separated stage ids")
    remote_created_after: Instant = Field(None, description=CREATED_AFTER)

    @field_validator("outcomes")
    @classmethod
    def known_outcomes(cls, value: str | None) -> str | None:
        """Outcomes are a closed set: an unknown one is a mistake to report, not a filter that matches nothing."""
        value = _upper_list(value)
        unknown = [outcome for outcome in split(value or "") if outcome not in OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcome {', '.join(unknown)}: use {', '.join(OUTCOMES)}")
        return value


def refuse_repeated(request: Request) -> None:
    """400 for a query parameter given more than once (``statuses=A&statuses=B``): half applying it would mislead."""
    params = request.query_params
    repeated = sorted({name for name, _ in params.multi_items() if len(params.getlist(name)) > 1})
    if repeated:
        raise BadQuery(
            f"`{repeated[0]}` is given more than once: give each parameter once, several values comma-separated"
        )
