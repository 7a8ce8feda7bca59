"""A browser-less Streamlit client: what a tab says over `/_stcore/stream`, nothing drawn.

A helper, not a benchmark: `make bench` runs every bench/*.py, and running this file
prints nothing and exits 0. bench_load.py drives many counselors with it.

A browser tab and the server speak protobuf over one websocket: the tab sends a
`BackMsg` whose `rerun_script` carries the page (its script hash and query string) and
the widgets' values; the server answers with `ForwardMsg`s, a `new_session` at the start
of every script run, one `delta` per element drawn (each widget carries the id the tab
sends its value under), and `script_finished`. This client keeps the elements of the
latest run by their place on the page, and does what a click does: a button's trigger,
a text area's value, a table row's selection, a link's page. It runs no JavaScript:
no custom component (the sign-in cookie's, the draft keeper's) answers, so the sign-in
lives in the session only, as in a tab whose cookies are blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
# Elements whose words tell what a page shows (a title, a caption, a link's label).
TEXT_FIELDS = ("body", "label", "text")


@dataclass
class Element:
    kind: str  # the element's type in the Delta ("button", "markdown", "arrow_data_frame"...)
    proto: Any

    @property
    def words(self) -> str:
        for name in TEXT_FIELDS:
            value = getattr(self.proto, name, None)
            if isinstance(value, str) and value:
                return value
        return ""

    @property
    def widget_id(self) -> str:
        return str(getattr(self.proto, "id", ""))


@dataclass
class Page:
    """The elements of the latest finished run, in drawing order."""

    elements: dict[tuple[int, ...], Element] = field(default_factory=dict)

    def all(self, kind: str | None = None) -> Iterator[Element]:
        for _path, element in sorted(self.elements.items()):
            if kind is None or element.kind == kind:
                yield element

    def find(self, kind: str, words: str | None = None) -> Element | None:
        """The first `kind` element whose words are `words` (or start with them)."""
        for element in self.all(kind):
            if words is None or element.words.startswith(words):
                return element
        return None

    def has_text(self, text: str) -> bool:
        return any(text in element.words for element in self.all())


class StClient:
    """One tab on one server: connect, then `rerun(...)` as a click does; each returns
    once the run it started (and any run that run asked for) has finished."""

    def __init__(self, base: str, *, cookie: str = "") -> None:
        """`base`: http(s)://host:port; `cookie`: a Cookie header to send (a proxy's
        sticky-session cookie)."""
        scheme = "wss://" if base.startswith("https://") else "ws://"
        self.ws_url = scheme + base.split("://", 1)[1].rstrip("/") + "/_stcore/stream"
        self.cookie = cookie
        self.reruns = 0
        self.page = Page()
        self._running = Page()
        self.pages: dict[str, str] = {}  # the menu: page title -> script hash
        self.page_hash = ""
        self.query = ""
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        self.bytes_in = 0

    async def open(self, query: str = "") -> None:
        """Connect and run the app's first page, as opening the address does."""
        tls = None
        if self.ws_url.startswith("wss://"):  # the test proxy's self-signed certificate
            tls = ssl.create_default_context()
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        self._ws = await connect(
            self.ws_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            max_size=None,
            ssl=tls,
            additional_headers={"Cookie": self.cookie} if self.cookie else None,
        )
        self._reader = asyncio.create_task(self._read())
        await self.rerun(query=query, page_hash="")

    async def close(self) -> None:
        """The tab is closed: the server keeps the session for its disconnected TTL."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # closing anyway
                await self._reader

    async def rerun(
        self,
        widgets: list[WidgetState] | None = None,
        *,
        page_hash: str | None = None,
        query: str | None = None,
        until: Callable[[Page], bool] | None = None,
        timeout_s: float = 120,
    ) -> Page:
        """Send one rerun (the current page unless `page_hash`) and wait for a finished
        run whose page satisfies `until` (by default any finished run)."""
        if page_hash is not None:
            self.page_hash = page_hash
        if query is not None:
            self.query = query
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        for widget in widgets or []:
            state.widget_states.widgets.append(widget)
        state.context_info.timezone = "Europe/Berlin"
        state.context_info.locale = "en-GB"
        self._finished.clear()
        assert self._ws is not None
        await self._ws.send(msg.SerializeToString())
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                said = [e.words for e in self.page.all() if e.kind in ("alert", "exception")]
                raise TimeoutError(f"no finished run with the expected page; it said {said}")
            await asyncio.wait_for(self._finished.wait(), left)
            self._finished.clear()
            if until is None or until(self.page):
                self.reruns += 1  # answered
                return self.page

    async def _read(self) -> None:
        assert self._ws is not None
        async for data in self._ws:
            assert isinstance(data, bytes)
            self.bytes_in += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self._take(msg)

    def _take(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._running = Page()
            self.page_hash = msg.new_session.page_script_hash
        elif kind == "delta":
            self._delta(tuple(msg.metadata.delta_path), msg.delta)
        elif kind == "navigation":
            self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "script_finished" and msg.script_finished == FINISHED:
            self.page = self._running
            self._finished.set()

    def _delta(self, path: tuple[int, ...], delta: Message) -> None:
        which = delta.WhichOneof("type")  # type: ignore[attr-defined]
        if which == "new_element":
            element = delta.new_element  # type: ignore[attr-defined]
            self._running.elements[path] = Element(element.WhichOneof("type"), element)
            self._running.elements[path].proto = getattr(element, element.WhichOneof("type"))
        elif which == "add_block":
            block = delta.add_block  # type: ignore[attr-defined]
            kind = block.WhichOneof("type") or "block"
            self._running.elements[path] = Element(kind, getattr(block, kind, block))


def trigger(element: Element) -> WidgetState:
    """A button's click."""
    return WidgetState(id=element.widget_id, trigger_value=True)


def text(element: Element, value: str) -> WidgetState:
    """A text box's value as the tab sends it when the box loses focus."""
    return WidgetState(id=element.widget_id, string_value=value)


def choice(element: Element, index: int) -> WidgetState:
    """A radio button picked, by its place among the options: the tab sends the option's
    words as shown."""
    return WidgetState(id=element.widget_id, string_value=element.proto.options[index])


def tab(element: Element, label: str) -> WidgetState:
    """A keyed tab chosen (`st.tabs(..., on_change="rerun")`)."""
    return WidgetState(id=element.widget_id, string_value=label)


def table_row(element: Element, row: int) -> WidgetState:
    """A click on a table row's box: its position in the frame the server sent (the
    selection travels as JSON text in `string_value`)."""
    selection = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return WidgetState(id=element.widget_id, string_value=json.dumps(selection))


if __name__ == "__main__":  # make bench runs every bench/*.py: this one is a helper
    pass
