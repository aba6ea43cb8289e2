"""Settings from the environment (prefix ``ATSBRIDGE_``) or a ``.env`` file: store, secrets, bind, sync cadence."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from atsbridge.private_dirs import make_private_dir

SECRET_KEY_FILE = "secret.key"
KEY_FILE_ASIDE = f".{SECRET_KEY_FILE}."  # a new key file's name while it is written (then linked into place)
DEFAULT_DATA_DIR = Path(".atsbridge")
HOURS_IN_A_YEAR = 366 * 24  # the longest cadence taken: a longer one is a typo (and 1e11 hours overflows a date)
_HOST_NAME = re.compile(
    r"[\w-]+(\.[\w-]+)*"
)  # letters of any script, digits, "_" and "-": what DNS and hosts files hold


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATSBRIDGE_", env_file=".env", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    secret_key: str | None = None
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    full_sync_every_hours: float = Field(10.0, gt=0, le=HOURS_IN_A_YEAR)
    delta_sync_every_minutes: float = Field(15.0, gt=0, le=HOURS_IN_A_YEAR * 60)
    delta_overlap_seconds: int = Field(60, ge=0)
    data_url_allowlist: str = ""
    allow_custom_tenant_urls: bool = False
    """Let the connect page accept any http(s) tenant URL (plain http, loopback, another domain), not only
    ``https://<tenant>.recru.eu``: for the bundled emulator and tests. Keep it off where end users are not
    trusted, or the server would send requests to any address typed into the form."""
    sync_runner: Literal["embedded", "queue"] = "embedded"
    public_url: str | None = None
    """The origin clients reach this API at (``https://ats.example.com``, e.g. behind a proxy): connect links,
    attachment ``data_url``s and webhook ``log_url``s start with it. Unset: links start with the address of the
    request that made them, and ``log_url`` is a path on the API's host."""

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_utf8(cls, value: object) -> object:
        """A value that is not UTF-8 text (Python keeps an environment's undecodable bytes as lone surrogates,
        which no URL, log or store can take) is refused here, not where it is first used."""
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("is not UTF-8 text") from None
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _blank_data_dir_is_the_default(cls, value: object) -> object:
        """Set but empty (``ATSBRIDGE_DATA_DIR=``), as unset: the default, not the current directory."""
        return DEFAULT_DATA_DIR if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/") or None
        if value is None:
            return None
        parts = urlsplit(value)
        try:
            port_in_range = parts.port is None or parts.port > 0
        except ValueError:
            port_in_range = False
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or not port_in_range
            or parts.username is not None
            or parts.path
            or "?" in value  # an empty query or fragment too: links would be appended after it
            or "#" in value
        ):
            raise ValueError("must be an http(s) origin without a path, e.g. https://ats.example.com")
        return value

    @field_validator("data_url_allowlist")
    @classmethod
    def _allowlist_holds_hosts_and_networks(cls, value: str) -> str:
        """Each entry an IP address or network, or a host name (a trailing dot dropped: URLs' hosts are compared
        without it); anything else is refused, as it would be kept as a host name that never matches."""
        entries = []
        for entry in (e.strip() for e in value.split(",") if e.strip()):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                entry = entry.removesuffix(".")
                looks_numeric = entry.replace(".", "").isdigit()  # "10.0.0": a mistyped address, no host's name
                if looks_numeric or not _HOST_NAME.fullmatch(entry):
                    raise ValueError(
                        f"{entry!r} is neither a host name nor an IP address or network "
                        "(comma-separated, e.g. files.example.com,10.0.0.0/8)"
                    ) from None
            entries.append(entry)
        return ",".join(entries)

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_32_hex_bytes(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _is_key_text(value):
            raise ValueError("must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_names_a_store(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy can read (a port that is no number is refused here, in one line), and no in-memory
        SQLite database: each command would get its own, which keeps nothing."""
        value = (value or "").strip() or None
        if value is None:
            return None
        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as unreadable:
            raise ValueError(f"not a URL of the store's database ({unreadable})") from None
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError(
                "an in-memory SQLite database keeps nothing between commands: name a file "
                "(sqlite:////path/to/atsbridge.sqlite3), or leave it unset for the data dir's"
            )
        return value

    @field_validator("sync_runner")
    @classmethod
    def _queue_needs_postgresql(cls, value: str, info: ValidationInfo) -> str:
        url = info.data.get("database_url")
        if value == "queue" and (url is None or make_url(url).get_backend_name() not in {"postgresql", "postgres"}):
            raise ValueError(
                "`queue` runs syncs on PostgreSQL's job queue: set ATSBRIDGE_DATABASE_URL=postgresql://..."
            )
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """``database_url``, or the SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'atsbridge.sqlite3').resolve()}"

    @cached_property
    def encryption_key(self) -> bytes:
        """32 bytes for AES-GCM: from ``secret_key`` (hex), else a key file made once under ``data_dir``.

        The key file suits the embedded default; a deployment with several machines sets ``ATSBRIDGE_SECRET_KEY``.
        """
        if self.secret_key:
            return bytes.fromhex(self.secret_key)
        key_file = self.data_dir / SECRET_KEY_FILE
        if not key_file.exists():
            _make_key_file(key_file)
        try:
            text = key_file.read_text(encoding="ascii", errors="replace").strip()
        except OSError as unreadable:
            raise SecretKeyUnreadable(f"the secret key file {key_file} cannot be read: {unreadable.strerror}") from None
        if not _is_key_text(text):
            raise SecretKeyUnreadable(
                f"the secret key file {key_file} is damaged (it must hold 64 hex characters): put back the key the "
                "store was made with (a backup, or ATSBRIDGE_SECRET_KEY); only a store without integrations or "
                "webhook secrets may start over with a new one (delete the file)"
            )
        return bytes.fromhex(text)


def _is_key_text(text: str) -> bool:
    """Whether ``text`` writes a secret key: 32 bytes in 64 hex characters."""
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


class SecretKeyUnreadable(Exception):
    """The data dir's ``secret.key`` cannot be read, or holds no key."""


def _make_key_file(key_file: Path) -> None:
    """Write a new key to ``key_file`` whole or not at all: written aside (``KEY_FILE_ASIDE``), then linked into
    place, so a process killed meanwhile leaves no empty key file, and of processes making it at once one wins and
    all read its key. On a file system without hard links (vfat, some network mounts) it is created in place."""
    make_private_dir(key_file.parent)
    key = secrets.token_hex(32)
    aside = key_file.with_name(f"{KEY_FILE_ASIDE}{secrets.token_hex(8)}")
    try:
        _write_new(aside, key)
        try:
            os.link(aside, key_file)
        except FileExistsError:  # another process made it first: its key is the one
            pass
        except OSError as refused:
            if refused.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            with contextlib.suppress(FileExistsError):
                _write_new(key_file, key)
    finally:
        aside.unlink(missing_ok=True)
    directory = os.open(key_file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the key's name is on disk before anything is sealed with it
    finally:
        os.close(directory)


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` (refused if it exists), readable by its owner only, holding ``text``, flushed to disk."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as written:
        written.write(text)
        written.flush()
        os.fsync(written.fileno())


class SettingsUnreadable(Exception):
    """The ``.env`` file cannot be read as settings."""


def get_settings() -> Settings:
    try:
        return Settings()
    except UnicodeDecodeError as undecodable:
        raise SettingsUnreadable(
            f"configuration: the .env file is not UTF-8 text (byte {undecodable.object[undecodable.start]:#04x} at "
            f"offset {undecodable.start})"
        ) from None
