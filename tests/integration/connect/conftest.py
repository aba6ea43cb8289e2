"""Connect-flow tests: the real app over real HTTP, a real store (SQLite and PostgreSQL) and a real RECRU emulator
whose plain-http address is typed into the form as the tenant (``allow_custom_tenant_urls``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from support.connect_flow import ConnectSite, connect_site
from support.emulator_process import EmulatorProcess, start_emulator

SEED, SIZE = 3, 20


@pytest.fixture(scope="package")
def recru_process() -> Iterator[EmulatorProcess]:
    process = start_emulator("--seed", str(SEED), "--size", str(SIZE), "--rate-limit", "off", "--json")
    yield process
    process.stop()


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Iterator[ConnectSite]:
    with connect_site(engine, tmp_path) as served:
        yield served


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class _Parser(HTMLParser):
    VOID = frozenset({"input", "meta", "link", "br", "img", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data


def _attribute(keyword: str) -> str:
    """``for_`` → ``for``, ``http_equiv`` → ``http-equiv``."""
    return keyword.rstrip("_").replace("_", "-")


class Html:
    """A page's elements, to assert on structure rather than on markup."""

    def __init__(self, source: str) -> None:
        parser = _Parser()
        parser.feed(source)
        self.elements = parser.elements

    def all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag) and all(e.attrs.get(_attribute(k)) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        (found,) = self.all(tag, **attrs)
        return found

    def text(self, tag: str | None = None, **attrs: str) -> str:
        return " ".join(self.one(tag, **attrs).text.split())

    def texts(self, tag: str) -> list[str]:
        return [" ".join(e.text.split()) for e in self.all(tag)]


@dataclass
class ConnectPage:
    """The hosted page over plain HTTP, used as a browser without JavaScript uses it (redirects not followed)."""

    http: httpx.Client
    link: str

    @property
    def path(self) -> str:
        return httpx.URL(self.link).path

    def open(self, **params: str) -> httpx.Response:
        return self.http.get(self.path, params=params)

    def csrf(self) -> str:
        opened = self.open()
        assert opened.status_code == 200, opened.text
        return Html(opened.text).one("input", name="csrf").attrs["value"]

    def submit(
        self, *, csrf: str | None = None, headers: dict[str, str] | None = None, **fields: str
    ) -> httpx.Response:
        token = self.csrf() if csrf is None else csrf
        return self.http.post(self.path, data={"csrf": token, **fields}, headers=headers)

    def status(self, **params: str) -> httpx.Response:
        return self.http.get(f"{self.path}/status", params=params)


@pytest.fixture
def connect_page(site: ConnectSite) -> Iterator[Any]:
    """``connect_page(link)``: a ``ConnectPage`` for a link of ``site``."""
    with httpx.Client(base_url=site.server.url, timeout=60) as http:
        yield lambda link: ConnectPage(http, link)
