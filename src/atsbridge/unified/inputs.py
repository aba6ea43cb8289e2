"""Pydantic models of the action bodies the unified API accepts (unified-api §5), as Kombo's SDK sends them.

The SDK omits ``None`` fields, so absent and ``null`` are treated alike. Unknown keys are ignored (Kombo's bodies
carry tool-specific ``remote_fields`` for other ATSs). A NUL character is refused in every text field before RECRU
is called: RECRU would keep it, PostgreSQL cannot, and the create would end half done (lone surrogates pydantic
refuses itself). Checks that need more than the shape (base64, the ``data`` / ``data_url`` choice, consent dates)
are made by the action code, which reports them in the envelope.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    field_validator,
)

from atsbridge.unified.countries import ISO_3166_ALPHA_2

ContactType = Literal["PERSONAL", "WORK", "OTHER"]

# What an e-mail address is here: RECRU's own rule (recru-api.md), so an address we accept RECRU stores, and one
# it refuses is refused here, before anything is sent.
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email_address(value: str) -> str:
    """``value`` in Unicode's composed form (NFC), as RECRU's exact match needs an address written one way: typed
    decomposed (``u`` + combining diaeresis) it is the same address as ``ü``. Invisible characters (zero-width
    spaces, bidirectional marks, controls) are refused: they would make another address that looks the same."""
    if not EMAIL_ADDRESS.fullmatch(value):
        raise ValueError("not an e-mail address (name@domain.tld)")
    if any(_invisible(char) for char in value):
        raise ValueError("an e-mail address cannot hold invisible or control characters")
    return unicodedata.normalize("NFC", value)


# Unicode's Default_Ignorable_Code_Point characters outside the format category (Hangul fillers, the combining
# grapheme joiner, variation selectors, ...) and the blank Braille pattern: each renders as nothing, or as a space.
_BLANK_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2800, 0x2800), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0xE0000, 0xE0FFF),
)  # fmt: skip


def _invisible(char: str) -> bool:
    point = ord(char)
    # Cn: unassigned code points (among them default-ignorable ones reserved for later)
    return unicodedata.category(char) in ("Cc", "Cf", "Cn") or any(low <= point <= high for low, high in _BLANK_RANGES)


def _country_code(value: str) -> str:
    if value.upper() not in ISO_3166_ALPHA_2:
        raise ValueError("not a country's ISO 3166-1 alpha-2 code (e.g. DE; the United Kingdom's is GB)")
    return value.upper()


def _in_utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the instant falls outside years 1 to 9999 in UTC") from error


EmailAddress = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email_address)]


def _visible_ends(value: str) -> str:
    """``value`` without the spaces and invisible formatting characters at its ends (a number pasted with a
    zero-width space): one of nothing else is blank. Controls stay, to be refused (``StorableText``: NUL)."""
    start, end = 0, len(value)
    while start < end and _blank(value[start]):
        start += 1
    while end > start and _blank(value[end - 1]):
        end -= 1
    return value[start:end]


def _blank(char: str) -> bool:
    return char.isspace() or (_invisible(char) and unicodedata.category(char) != "Cc")


def holds_control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character or a line break (a tab, an escape, U+2028): a mistake in a name
    or a number."""
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value)


def printable(value: str) -> str:
    """A validator of a name shown in listings, events or RECRU's codebooks: no control characters or line breaks."""
    if holds_control_characters(value):
        raise ValueError("must not hold control characters (tabs, line breaks, escapes)")
    return value


def visible(value: str) -> str:
    """A validator of a name that must show something: not blank to the eye (a zero-width space alone)."""
    if is_blank(value):
        raise ValueError("must not be blank (it holds only spaces or invisible characters)")
    return value


PrintableText = Annotated[str, AfterValidator(printable)]


def is_blank(value: str) -> bool:
    """Whether ``value`` is empty or holds nothing but spaces and invisible formatting characters."""
    return not _visible_ends(value)


PhoneNumber = Annotated[str, Field(max_length=50), AfterValidator(_visible_ends), AfterValidator(printable)]
"""A phone number; given blank (empty, spaces, invisible characters), it is not written (with a warning)."""


def _iso_text(value: object) -> object:
    """An instant comes as ISO 8601 text: pydantic would take a number (or digits) for seconds since 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z")
    return value


UtcInstant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]
"""An instant in any offset (naive = UTC), held in UTC: a date RECRU takes from it is the UTC date."""
CountryCode = Annotated[
    str, Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2"), AfterValidator(_country_code)
]


class StorableText(BaseModel):
    """A request body whose texts the store can hold and RECRU can be sent: a NUL character is refused in every text
    field (PostgreSQL cannot store one, SQLite can: refusing it on both keeps the two stores alike), and so is a lone
    surrogate (JSON's ``"\\ud800"``), which no UTF-8 can hold."""

    @field_validator("*")
    @classmethod
    def storable_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            if not value.isascii():
                try:
                    value.encode()
                except UnicodeEncodeError:
                    raise ValueError("must be Unicode text (it holds a lone surrogate)") from None
        return value


class InputModel(StorableText):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ContactInput(InputModel):
    type: ContactType = "PERSONAL"

    @field_validator("type", mode="before")
    @classmethod
    def personal_if_null(cls, value: object) -> object:
        """A ``type`` given ``null`` is the default, as when it is left out."""
        return "PERSONAL" if value is None else value


class AdditionalEmail(ContactInput):
    email_address: EmailAddress


class AdditionalPhone(ContactInput):
    phone_number: PhoneNumber


class CandidateLocation(InputModel):
    country: CountryCode
    city: str | None = None
    state: str | None = None
    street_1: str | None = None
    zip_code: str | None = None


class SalaryExpectations(InputModel):
    period: Literal["MONTH", "YEAR"]
    amount: StrictFloat = Field(ge=0, allow_inf_nan=False)  # a number, not a text of one


class SocialLink(InputModel):
    url: str


class CandidateInput(InputModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email_address: EmailAddress
    additional_email_addresses: list[AdditionalEmail] | None = None
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    phone_number: PhoneNumber | None = None
    additional_phone_numbers: list[AdditionalPhone] | None = None
    location: CandidateLocation | None = None
    gender: Literal["MALE", "FEMALE", "OTHER"] | None = None
    availability_date: UtcInstant | None = None
    salary_expectations: SalaryExpectations | None = None
    social_links: list[SocialLink] | None = None


class AttachmentInput(InputModel):
    name: str = Field(min_length=1, max_length=255)
    type: Literal["CV", "COVER_LETTER", "OTHER"]
    content_type: str | None = None
    data_url: str | None = None
    data: str | None = None


class SourceInput(InputModel):
    name: PrintableText | None = Field(None, max_length=100)
    unified_key: PrintableText | None = Field(None, max_length=100)
    id: str | None = None


class SourcedBy(InputModel):
    user_id: str


class GdprConsent(InputModel):
    expires_at: UtcInstant | None = None
    given: StrictBool | None = None  # true or false, not "yes" or 1


class ActionExtras(InputModel):
    """What both creates take beside the candidate."""

    attachments: list[AttachmentInput] | None = None
    source: SourceInput | None = None
    sourced_by: SourcedBy | None = None
    gdpr_consent: GdprConsent | None = None
    screening_question_answers: list[dict[str, Any]] | None = None
    remote_fields: dict[str, Any] | None = None


class CreateApplicationBody(ActionExtras):
    candidate: CandidateInput
    stage_id: str | None = None


class ApplicationInput(InputModel):
    job_id: str = Field(min_length=1)
    stage_id: str | None = None


class CreateCandidateBody(ActionExtras):
    candidate: CandidateInput
    application: ApplicationInput


class TagInput(InputModel):
    name: str = Field(min_length=1, max_length=100)


class TagBody(InputModel):
    tag: TagInput
