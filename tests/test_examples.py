"""The clients in ``examples/`` do what their READMEs say: the good ones pass ``conform``.

The httpx and asyncio examples run the whole catalogue in-process on virtual time (about a
second each). The requests example needs a real socket, and the Node.js examples are commands
in another process, so those run on real time (``slow``), on ``start_bot`` only — the
operation whose lost answer makes the difference between the good and the broken Node client.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import FakeVexa
from harness.cli import main
from harness.conformance.verdicts import CLIENT_RULES, WEBHOOK_RULES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PYTHON = EXAMPLES / "python"
NODE = shutil.which("node")
MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}


def verdicts(report: Path) -> dict[str, str]:
    return {rule["id"]: rule["verdict"] for rule in json.loads(report.read_text())["rules"]}


def node_major() -> int:
    assert NODE is not None
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True)
    found = re.match(r"v(\d+)", version.stdout.strip())
    return int(found.group(1)) if found else 0


needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the Node.js examples need Node >= 20"
)


@pytest.mark.parametrize("adapter", ["httpx_client:Adapter", "async_client:Adapter"])
def test_the_python_examples_pass_every_client_rule_in_process(
    adapter: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.syspath_prepend(str(PYTHON))
    report = tmp_path / "report.json"
    code = main(["conform", "--client-py", adapter, "--seed", "5", "--report-json", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, out + err[-2000:]
    found = verdicts(report)
    assert all(found[rule] == "pass" for rule in CLIENT_RULES), found
    assert all(found[rule] == "skip" for rule in WEBHOOK_RULES)


@pytest.mark.slow
def test_the_requests_example_passes_on_a_real_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(PYTHON))
    report = tmp_path / "report.json"
    code = main(
        ["conform", "--client-py", "requests_client:Adapter", "--profile", "docs",
         "--operation", "start_bot", "--seed", "5", "--report-json", str(report)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, out + err[-2000:]
    assert all(verdicts(report)[rule] == "pass" for rule in CLIENT_RULES)


COMMANDS = {
    "httpx": [sys.executable, str(PYTHON / "httpx_client.py")],
    "requests": [sys.executable, str(PYTHON / "requests_client.py")],
    "async": [sys.executable, str(PYTHON / "async_client.py")],
    "node-good": [NODE or "node", str(EXAMPLES / "node" / "good.js")],
    "node-broken": [NODE or "node", str(EXAMPLES / "node" / "broken.js")],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_example_speaks_the_command_protocol(name: str) -> None:
    if name.startswith("node") and NODE is None:
        pytest.skip("node is not installed: the Node.js examples need Node >= 20")
    fake = FakeVexa(seed=3)
    alice = fake.create_user()
    with fake.serve() as server:
        env = {**os.environ, "VEXA_API_BASE": server.url, "VEXA_API_KEY": alice.api_key}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*COMMANDS[name], *args], env=env, capture_output=True, text=True, timeout=60
            )

        started = run("start_bot", json.dumps(MEET))
        assert started.returncode == 0, started.stderr
        assert json.loads(started.stdout)["status"] == "requested"
        listed = run("list_meetings", "{}")
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)["meetings"]) == 1
        again = run("start_bot", json.dumps(MEET))  # a bot runs: Vexa's 409, not retried
        assert again.returncode == 1
        assert "409" in again.stderr
        assert again.stderr.count("\n") == 1  # one line
        unknown = run("order_pizza", "{}")
        assert unknown.returncode == 2
    assert [r.path for r in fake.journal.requests()] == ["/bots", "/meetings", "/bots"]


@needs_node
def test_node_is_recent_enough_for_plain_fetch() -> None:
    assert node_major() >= 20


@pytest.mark.slow
@needs_node
def test_the_good_node_client_passes_conform_on_start_bot(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    finished = subprocess.run(
        [sys.executable, "-m", "harness", "conform", "--client-cmd",
         f"{NODE} {EXAMPLES / 'node' / 'good.js'}", "--operation", "start_bot",
         "--profile", "docs", "--seed", "3", "--report-json", str(report)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout + finished.stderr[-3000:]
    found = verdicts(report)
    assert all(found[rule] == "pass" for rule in CLIENT_RULES), found


@pytest.mark.slow
@needs_node
def test_the_broken_node_client_fails_no_blind_post(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    html = tmp_path / "report.html"
    finished = subprocess.run(
        [sys.executable, "-m", "harness", "conform", "--client-cmd",
         f"{NODE} {EXAMPLES / 'node' / 'broken.js'}", "--operation", "start_bot",
         "--profile", "docs", "--rule", "no-blind-post", "--seed", "3",
         "--report-json", str(report), "--html", str(html)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert finished.returncode == 1, finished.stdout + finished.stderr[-3000:]
    assert verdicts(report)["no-blind-post"] == "fail"
    assert "no-blind-post           FAIL" in finished.stdout
    page = html.read_text()
    assert 'id="why-no-blind-post"' in page
