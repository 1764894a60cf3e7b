"""The HTML report in a real browser: headless Chromium, driven over the DevTools protocol.

What a person relies on is checked in the rendered page, after the script ran: every rule is
listed with its verdict, timelines are drawn (non-empty SVG boxes, marks, evidence rings),
the links of a failing rule open the run that shows it (even when a filter hid it), passing
runs are collapsed and the filter works on hundreds of runs, the page fetches nothing and
throws nothing. A screenshot of the report of a failing client is saved under
``.ci/artifacts/`` for people to look at (CI keeps it; git ignores it).

Chromium is Debian's ``chromium`` (``.ci/run`` installs it); without it these tests skip and
say so. The DevTools client is a few lines of wsproto: no Playwright, no download.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import importlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, TextMessage
from wsproto.events import Request as WsRequest

from harness.clients.sync_client import HttpxAdapter
from harness.conformance.clients import PythonClient
from harness.conformance.report import html_report
from harness.conformance.runner import Result, conform
from harness.conformance.verdicts import RULE_IDS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / ".ci" / "artifacts"
GUARD = 30.0  # seconds; only there so that a broken browser fails the test instead of hanging
#: The flags that work on this machine (no sandbox as root, no network chatter, fresh profile).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's WebSocket (wsproto, sync)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sock = socket.create_connection((host, port), timeout=GUARD)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(WsRequest(host=f"{host}:{port}", target=parts.path)))
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self._text = ""
        self._pending: list[dict[str, Any]] = []
        accepted = False
        while not accepted:
            self.ws.receive_data(self.sock.recv(65536))
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    accepted = True
                else:
                    raise AssertionError(f"DevTools refused the WebSocket: {event!r}")

    def _messages(self) -> Iterator[dict[str, Any]]:
        while self._pending:
            yield self._pending.pop(0)
        while True:
            data = self.sock.recv(1 << 20)
            if not data:
                raise AssertionError("DevTools closed the connection")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, TextMessage):
                    self._text += str(event.data)
                    if event.message_finished:
                        text, self._text = self._text, ""
                        yield json.loads(text)
                elif isinstance(event, Ping):
                    self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    raise AssertionError("DevTools closed the WebSocket")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        message = json.dumps({"id": ident, "method": method, "params": params})
        self.sock.sendall(self.ws.send(TextMessage(data=message)))
        for reply in self._messages():
            if reply.get("id") == ident:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)
        raise AssertionError("unreachable")  # pragma: no cover

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (exceptions fail the test)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + GUARD
        while self.evaluate("document.readyState") != "complete":
            assert time.monotonic() < deadline, f"{url} did not finish loading"
            time.sleep(0.02)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + GUARD
        while not (active.exists() and active.read_text().count("\n") >= 1):
            assert process.poll() is None, f"chromium exited with {process.returncode}"
            assert time.monotonic() < deadline, "chromium never opened its DevTools port"
            time.sleep(0.05)
        port = int(active.read_text().split()[0])
        page_url = _page_socket(port)
        tools = DevTools(page_url)
        tools.call("Runtime.enable")
        tools.call("Page.enable")
        tools.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=1500,
            deviceScaleFactor=1,
            mobile=False,
        )
        yield tools
        tools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only a wedged browser
            process.kill()
            process.wait()


def _page_socket(port: int) -> str:
    deadline = time.monotonic() + GUARD
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
        try:
            connection.request("GET", "/json/list")
            targets = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        assert time.monotonic() < deadline, "chromium opened no page"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """The whole catalogue against a client that re-POSTs blindly (hundreds of runs)."""
    blind = importlib.import_module("broken_clients.blind_repost")
    result = conform(PythonClient(blind.ADAPTER), seed=2)
    assert len(result.runs) > 200
    path = tmp_path_factory.mktemp("report") / "blind-repost.html"
    path.write_text(html_report(result), encoding="utf-8")
    return result, path


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    result = conform(PythonClient(HttpxAdapter()), seed=2, operations=["start_bot"])
    path = tmp_path_factory.mktemp("report") / "reference.html"
    path.write_text(html_report(result), encoding="utf-8")
    return result, path


def _no_errors(browser: DevTools) -> None:
    thrown = [e for e in browser.events if e["method"] == "Runtime.exceptionThrown"]
    assert not thrown, thrown
    browser.events.clear()


def test_every_rule_is_listed_with_its_verdict(
    browser: DevTools, failing: tuple[Result, Path]
) -> None:
    result, path = failing
    browser.open(path.as_uri())
    rows = browser.evaluate(
        "Array.from(document.querySelectorAll('#rules tbody tr'))"
        ".map(r => [r.id, r.querySelector('.badge').textContent])"
    )
    expected = {v.rule: {"pass": "PASS", "fail": "FAIL", "skip": "skip"}[v.verdict] for v in
                result.verdicts}  # fmt: skip
    assert [row[0] for row in rows] == [f"rule-{rule}" for rule in RULE_IDS]
    assert {row[0][5:]: row[1] for row in rows} == expected
    assert browser.evaluate("document.querySelector('.banner h1').textContent").startswith(
        "FAIL — 2 of 12 rules failed: no-blind-post, retries-transient"
    )
    _no_errors(browser)


def test_timelines_are_drawn_with_marks_and_evidence_rings(
    browser: DevTools, failing: tuple[Result, Path]
) -> None:
    _, path = failing
    browser.open(path.as_uri())
    boxes = browser.evaluate(
        "Array.from(document.querySelectorAll('#why .why svg.timeline')).map(s => {"
        " const r = s.getBoundingClientRect();"
        " return {w: r.width, h: r.height, marks: s.querySelectorAll('g.att').length,"
        "         rings: s.querySelectorAll('circle.hl').length,"
        "         lanes: s.querySelectorAll('g.lane').length}; })"
    )
    assert len(boxes) == 2  # one per failing rule
    for box in boxes:
        assert box["w"] > 1000
        assert box["h"] > 80
        assert box["marks"] >= 2
        assert box["rings"] >= 1
        assert box["lanes"] >= 2  # POST /bots and the side effects
    texts = browser.evaluate(
        "Array.from(document.querySelectorAll('#why .why svg.timeline text'))"
        ".map(t => t.textContent)"
    )
    assert any("before commit" in t or "after commit" in t for t in texts)
    assert any("bot created" in t for t in texts)
    # every failing run is open and drawn; a statistical outage run gets its waits chart
    drawn = browser.evaluate(
        "Array.from(document.querySelectorAll('details.run.fail')).every(d => d.open &&"
        " d.querySelector('svg.timeline').getBoundingClientRect().height > 80)"
    )
    assert drawn is True
    assert browser.evaluate(
        "document.querySelectorAll('details.run svg.timeline g.waits rect.env').length"
    )
    _no_errors(browser)


def test_failing_rules_link_to_the_runs_that_show_them(
    browser: DevTools, failing: tuple[Result, Path]
) -> None:
    _, path = failing
    browser.open(path.as_uri())
    links = browser.evaluate(
        "Array.from(document.querySelectorAll('#rule-no-blind-post a.evidence-link'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert links
    # hide every failing run behind a filter, then follow a link: the run must come back
    browser.evaluate("document.querySelector('input[name=vx-status][value=pass]').click(); true")
    assert browser.evaluate("document.querySelector(" + json.dumps(links[-1]) + ").hidden")
    for href in (links[-1], links[0]):
        browser.evaluate(
            "document.querySelector('#rule-no-blind-post a.evidence-link[href=\"" + href
            + "\"]').click(); true"
        )  # fmt: skip
        time.sleep(0.05)
        state = browser.evaluate(
            "(() => { const d = document.querySelector(" + json.dumps(href) + ");"
            " return {hash: location.hash, open: d.open, hidden: d.hidden,"
            " target: d.classList.contains('target'), top: d.getBoundingClientRect().top,"
            " blamed: d.querySelector('.blame').textContent}; })()"
        )
        assert state["hash"] == href
        assert state["open"] is True
        assert state["hidden"] is False
        assert state["target"] is True
        assert -2 <= state["top"] < 120, state  # scrolled to it (below the sticky filter bar)
        assert "no-blind-post" in state["blamed"]
    # the rule's own anchor leads to its explanation
    assert browser.evaluate("!!document.getElementById('why-no-blind-post')")
    _no_errors(browser)


def test_hundreds_of_runs_stay_readable(browser: DevTools, failing: tuple[Result, Path]) -> None:
    result, path = failing
    browser.open(path.as_uri())
    counts = browser.evaluate(
        "({runs: document.querySelectorAll('details.run').length,"
        " openPassing: document.querySelectorAll('details.run.pass[open]').length,"
        " failing: document.querySelectorAll('details.run.fail').length,"
        " groups: document.querySelectorAll('.op-group').length})"
    )
    assert counts["runs"] == len(result.runs)
    assert counts["openPassing"] == 0  # passing runs are collapsed
    assert 0 < counts["failing"] < counts["runs"]
    assert counts["groups"] == 10  # one per operation
    shown = browser.evaluate(
        "(() => { const q = document.getElementById('vx-q'); q.value = 'ambiguous-reset';"
        " q.dispatchEvent(new Event('input'));"
        " return {count: document.getElementById('vx-count').textContent,"
        " visible: Array.from(document.querySelectorAll('details.run:not([hidden])'))"
        " .map(d => d.querySelector('summary code').textContent)}; })()"
    )
    assert shown["visible"] == ["start_bot/ambiguous-reset"] * 2  # docs and v0.10
    assert shown["count"] == f"2 of {len(result.runs)} runs shown"
    hidden_groups = browser.evaluate("document.querySelectorAll('.op-group[hidden]').length")
    assert hidden_groups == 9
    _no_errors(browser)


def test_the_page_fetches_nothing(browser: DevTools, passing: tuple[Result, Path]) -> None:
    _, path = passing
    browser.open(path.as_uri())
    assert browser.evaluate("performance.getEntriesByType('resource').length") == 0
    outside = browser.evaluate(
        "Array.from(document.querySelectorAll('[src], link[href], a[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
        ".filter(u => !u.startsWith('#'))"
    )
    assert outside == []
    assert browser.evaluate("document.querySelector('.banner h1').textContent").startswith("PASS")
    assert browser.evaluate("document.querySelectorAll('#why').length") == 0
    _no_errors(browser)


def test_a_screenshot_of_a_failing_report_is_saved_for_people(
    browser: DevTools, failing: tuple[Result, Path]
) -> None:
    _, path = failing
    browser.open(path.as_uri())
    shot = browser.call("Page.captureScreenshot", format="png")
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 1500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-blind-repost.png").write_bytes(png)
    (ARTIFACTS / "report-blind-repost.html").write_text(path.read_text(encoding="utf-8"))
    # what the screenshot shows, in the DOM: the failing rule, what happened, its timeline
    top = browser.evaluate(
        "(() => { const why = document.querySelector('#why .why');"
        " return {rule: why.querySelector('h3').textContent,"
        " what: why.querySelector('.what').textContent,"
        " svgTop: why.querySelector('svg.timeline').getBoundingClientRect().top}; })()"
    )
    assert "no-blind-post" in top["rule"]
    assert "no read in between" in top["what"]
    assert top["svgTop"] < 1500  # the timeline is in the screenshot
