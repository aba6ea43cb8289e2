"""Attachments of an action, made ready before anything is sent to the ATS: exactly one of ``data`` (base64) or
``data_url`` per file, type and content type known, the ATS's size, count and content-type limits checked.

``data_url`` is fetched only over http(s), with timeouts, a deadline for the whole file and a size cap, and never
from loopback, private, shared, link-local (cloud metadata included), multicast, reserved or any other address that
is not globally reachable, unless ``ATSBRIDGE_DATA_URL_ALLOWLIST`` names the host or network. Every address the
host resolves to is checked, redirects are followed by hand (each hop checked again), and the connection goes to
the checked address, so DNS cannot swap it afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import mimetypes
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from atsbridge.api.errors import invalid_input
from atsbridge.connectors.base import PreparedFile, UploadLimits
from atsbridge.unified.inputs import AttachmentInput

FETCH_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
FETCH_DEADLINE = 30.0  # seconds for one file, redirects included: a server dripping bytes cannot hold the action
MAX_REDIRECTS = 3

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[IpNetwork, ...]

    @classmethod
    def parse(cls, entries: str) -> AllowList:
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        for entry in (e.strip() for e in entries.split(",") if e.strip()):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower())
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IpAddress) -> bool:
        return host.lower() in self.hosts or any(address in network for network in self.networks)


# IPv6 forms that carry an IPv4 address, which some stacks route to it: IPv4-compatible (the deprecated ::/96),
# NAT64 (RFC 6052, RFC 8215); mapped, 6to4 and Teredo addresses are told by ``ipaddress`` itself.
_CARRYING_IPV4 = tuple(ipaddress.IPv6Network(net) for net in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48"))


def _forbidden(address: IpAddress) -> bool:
    """Whether ``address`` is not a public unicast one: every range IANA lists as not globally reachable (loopback,
    private, shared 100.64/10, link-local…), reserved and multicast ones, and every IPv6 form that carries an IPv4
    address (see ``_CARRYING_IPV4``)."""
    if isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped or address.sixtofour or address.teredo or any(address in net for net in _CARRYING_IPV4)
    ):
        return True
    return address.is_multicast or address.is_reserved or not address.is_global


async def _checked_address(host: str, port: int, allow: AllowList, field: str) -> str:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:  # UnicodeError: a name IDNA cannot encode (a label over 63 chars)
        raise invalid_input(f"{field}: the host {host!r} cannot be resolved.") from error
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    for address in addresses:
        if _forbidden(address) and not allow.allows(host, address):
            raise invalid_input(
                f"{field}: {host!r} resolves to a loopback, private, link-local or reserved address ({address}); "
                "such data_url hosts are refused unless allow-listed in ATSBRIDGE_DATA_URL_ALLOWLIST."
            )
    return str(sorted(addresses, key=str)[0])


async def fetch_data_url(url: str, allow: AllowList, max_bytes: int, field: str) -> tuple[bytes, str | None]:
    """(content, content type) of ``url``, within ``FETCH_DEADLINE`` in all; every refusal or failure is an
    INPUT_INVALID naming ``field``."""
    try:
        async with asyncio.timeout(FETCH_DEADLINE):
            return await _fetch(url, allow, max_bytes, field)
    except TimeoutError as error:
        raise invalid_input(f"{field}: the URL did not deliver the file within {FETCH_DEADLINE:g} s.") from error


async def _fetch(url: str, allow: AllowList, max_bytes: int, field: str) -> tuple[bytes, str | None]:
    for _ in range(MAX_REDIRECTS + 1):
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:  # a bracket left open, a port out of range
            raise invalid_input(f"{field}: the URL is malformed ({error}).") from error
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid_input(f"{field}: only http and https URLs can be fetched.")
        address = await _checked_address(parts.hostname, port, allow, field)
        # http: connect to the checked address itself; https: the certificate binds the name to the server.
        host = parts.netloc.rpartition("@")[2]
        target = url if parts.scheme == "https" else url.replace(parts.netloc, f"{_bracket(address)}:{port}", 1)
        headers = {"Host": host} if parts.scheme == "http" else {}
        try:
            async with (
                httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client,
                client.stream("GET", target, headers=headers) as response,
            ):
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise invalid_input(f"{field}: fetching the URL answered HTTP {response.status_code}.")
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise invalid_input(f"{field}: the file is larger than {max_bytes // (1024 * 1024)} MiB.")
                return bytes(content), response.headers.get("content-type")
        except httpx.HTTPError as error:
            raise invalid_input(f"{field}: the URL could not be fetched ({type(error).__name__}).") from error
    raise invalid_input(f"{field}: too many redirects.")


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _decode(data: str, field: str) -> bytes:
    """Strict base64, but line breaks (MIME encoders wrap at 76 columns) and a ``data:`` URI prefix are accepted."""
    text = data.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise invalid_input(f"{field}: `data` is not valid base64.") from error


def _content_type(given: str | None, fetched: str | None, name: str) -> str:
    for candidate in (given, fetched, mimetypes.guess_type(name)[0]):
        if candidate:
            return candidate.split(";")[0].strip().lower()
    return "application/octet-stream"


async def prepare(files: list[AttachmentInput], limits: UploadLimits, allow: AllowList) -> list[PreparedFile]:
    if len(files) > limits.max_files:
        raise invalid_input(f"attachments: at most {limits.max_files} files per request.")
    prepared: list[PreparedFile] = []
    for index, file in enumerate(files):
        field = f"attachments[{index}]"
        if (file.data is None) == (file.data_url is None):
            raise invalid_input(f"{field}: give exactly one of `data` (base64) and `data_url`.")
        fetched_type = None
        if file.data is not None:
            content = _decode(file.data, field)
        else:
            assert file.data_url is not None
            content, fetched_type = await fetch_data_url(file.data_url, allow, limits.max_file_bytes, field)
        if not content:
            raise invalid_input(f"{field}: the file is empty.")
        if len(content) > limits.max_file_bytes:
            raise invalid_input(f"{field}: the file is larger than {limits.max_file_bytes // (1024 * 1024)} MiB.")
        content_type = _content_type(file.content_type, fetched_type, file.name)
        if content_type not in limits.content_types:
            allowed = ", ".join(sorted(limits.content_types))
            raise invalid_input(f"{field}: content type {content_type!r} is not accepted by the ATS ({allowed}).")
        prepared.append(PreparedFile(file.name, file.type, content_type, content))
    if sum(len(f.data) for f in prepared) > limits.max_total_bytes:
        raise invalid_input(f"attachments: more than {limits.max_total_bytes // (1024 * 1024)} MiB in total.")
    return prepared
