"""Every code example in ``docs/`` runs, so the docs stay true (test_docs_faults.py, general).

Each page is one session, its blocks in order, in a fresh working directory (with
``examples/`` linked in):

* ``python`` blocks run in one namespace per page; a page marked
  ``<!-- docs-test: isolated -->`` runs its first block as the setup of each later one instead.
  ``python file=NAME`` blocks are written to ``NAME`` (for the commands that follow).
* ``bash`` blocks run line by line (``\\`` continues a line) with a timeout: ``vexa-harness``,
  ``curl``, ``python``, ``pytest``, ``node`` and ``mkdir`` commands. A line ending in
  ``# exits N`` must exit N, every other 0; a ``curl`` must get a 2xx, or the status its
  ``# answers NNN`` says. ``vexa-harness serve`` starts in the background (on a free port: the
  page's ``localhost:PORT`` is rewritten to it) and stops with the page; a ``curl`` to
  ``localhost`` with no ``serve`` before it gets one. Installs (``pip install``) and ``cd`` are
  shown, not run.
* ``http`` blocks (``METHOD PATH``, optional ``Header: value`` lines, a JSON body) are sent to
  an in-process fake, one per page, and must get a 2xx.
* ``json`` blocks parse; a fault plan (an object with ``rules``) must load and match
  ``docs/reference/fault-plan.schema.json``. ``yaml`` blocks parse, and the
  ``vexa-harness`` commands in them parse with the real CLI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness import FakeVexa
from harness.conformance.verdicts import RULE_IDS
from harness.faults.plan import FaultPlan

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")
ANSWERS = re.compile(r"\s+#\s*answers\s+(\d{3})\s*$")
HTTP_CODE = re.compile(r"\n?__HTTP_(\d{3})$")
TIMEOUT = 240  # seconds per command; a hung example fails instead of hanging CI
RUNNABLE = ("vexa-harness", "curl", "python", "pytest", "node", "mkdir")
SHOWN_ONLY = (re.compile(r"^(python -m )?pip install\b"), re.compile(r"^(cd|git clone)\b"))
#: Pages whose commands take real time (command clients, pytest-xdist): marked slow.
SLOW = {
    "tutorial/first-run.md",
    "how-to/xdist.md",
    "how-to/ci.md",
    "how-to/fuzzing.md",
    "how-to/reports.md",
    "reference/fixtures.md",
}


@dataclass
class Block:
    lang: str
    attrs: dict[str, str]
    code: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for found in BLOCK.finditer(text):
        info = found.group(1).split()
        lang = info[0] if info else ""
        attrs = dict(part.split("=", 1) for part in info[1:] if "=" in part)
        out.append(Block(lang, attrs, found.group(2), text.count("\n", 0, found.start()) + 1))
    return out


def commands(code: str) -> Iterator[str]:
    """Shell lines: ``\\`` continuations and quotes spanning lines joined, comments dropped."""
    pending = ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote is still open: the command goes on
            pending += "\n"
            continue
        yield pending.strip()
        pending = ""
    if pending:
        yield pending.strip()


def program(line: str) -> str:
    """The command a shell line runs, past ``NAME=value`` prefixes."""
    words = shlex.split(line, comments=True)
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    return words[0] if words else ""


@dataclass
class Session:
    """One page's run: its working directory, environment, server and fake."""

    cwd: Path
    env: dict[str, str]
    namespace: dict[str, Any] = field(default_factory=dict)
    servers: list[subprocess.Popen[str]] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)  # documented host:port -> real one
    fake: FakeVexa | None = None
    ran: int = 0
    outputs: list[str] = field(default_factory=list)

    def rewrite(self, text: str) -> str:
        for documented, real in self.ports.items():
            for host in ("localhost", "127.0.0.1"):
                text = text.replace(f"{host}:{documented}", real)
        return text

    def serve(self, line: str) -> None:
        words = shlex.split(line, comments=True)
        documented = "8056"
        if "--port" in words:
            documented = words[words.index("--port") + 1]
            words[words.index("--port") + 1] = "0"
        else:
            words += ["--port", "0"]
        process = subprocess.Popen(
            words, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, text=True
        )
        self.servers.append(process)
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://"), (line, first)
        self.ports[documented] = first.removeprefix("listening on http://")

    def run(self, line: str) -> None:
        expected, status = 0, None
        found = EXITS.search(line)
        if found:
            expected = int(found.group(1))
            line = line[: found.start()]
        answers = ANSWERS.search(line)
        if answers:
            status = answers.group(1)
            line = line[: answers.start()]
        if program(line) == "vexa-harness" and shlex.split(line)[1:2] == ["serve"]:
            self.serve(line)
            return
        if program(line) == "curl" and not self.ports and "localhost:" in line:
            self.serve("vexa-harness serve --port 8056")
        line = self.rewrite(line)
        probe = program(line) == "curl" and " -w " not in line and "|" not in line
        if probe:  # curl exits 0 on a 4xx: check the status it got, too
            line += " -w '\\n__HTTP_%{http_code}'"
        finished = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        detail = f"$ {line}\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
        assert finished.returncode == expected, detail
        got = HTTP_CODE.search(finished.stdout) if probe else None
        if got is not None and got.group(1) != "000":
            if status is not None:
                assert got.group(1) == status, detail
            else:
                assert got.group(1).startswith("2"), detail
        self.outputs.append(finished.stdout)
        self.ran += 1

    def close(self) -> None:
        for process in self.servers:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _schema() -> Draft202012Validator:
    path = DOCS / "reference" / "fault-plan.schema.json"
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def check_json(block: Block) -> None:
    document = json.loads(block.code)
    if isinstance(document, dict) and "rules" in document:
        FaultPlan.from_json(document)
        errors = [e.message for e in _schema().iter_errors(document)]
        assert not errors, errors


def run_scripts(node: Any) -> Iterator[str]:
    """Every ``run:`` script in a parsed workflow."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            else:
                yield from run_scripts(value)
    elif isinstance(node, list):
        for value in node:
            yield from run_scripts(value)


def check_workflow(document: Any) -> int:
    """Parse every ``vexa-harness`` command of a workflow with the real CLI; how many."""
    from harness.cli import _parser

    count = 0
    for script in run_scripts(document):
        for line in commands(script):
            if program(line) == "vexa-harness":
                words = shlex.split(line, comments=True)
                _parser().parse_args(words[words.index("vexa-harness") + 1 :])
                count += 1
    return count


def check_yaml(block: Block) -> None:
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load(block.code)
    assert document
    check_workflow(document)


def send_http(session: Session, block: Block) -> None:
    head, _, rest = block.code.partition("\n")
    method, path = head.split()
    headers: dict[str, str] = {}
    lines = rest.splitlines()
    while lines and re.match(r"^[A-Za-z-]+: ", lines[0]):
        name, _, value = lines.pop(0).partition(": ")
        headers[name] = value
    body = "\n".join(lines).strip()
    if session.fake is None:
        session.fake = FakeVexa(seed=7)
    with session.fake.client() as client:
        answer = client.request(
            method, path, headers=headers, json=json.loads(body) if body else None
        )
    assert 200 <= answer.status_code < 300, (block.code, answer.status_code, answer.text)


def run_page(page: Path, tmp_path: Path) -> Session:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "NO_COLOR": "1"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    session = Session(tmp_path, env)
    isolated = "<!-- docs-test: isolated -->" in page.read_text(encoding="utf-8")
    setup: str | None = None
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        for block in blocks(page):
            where = f"{page.relative_to(DOCS)}:{block.line}"
            if block.lang == "python" and "file" in block.attrs:
                (tmp_path / block.attrs["file"]).write_text(block.code, encoding="utf-8")
            elif block.lang == "python":
                if isolated and setup is None:
                    setup = block.code
                    continue
                namespace = {} if isolated else session.namespace
                if isolated and setup is not None:
                    exec(compile(setup, where, "exec"), namespace)
                exec(compile(block.code, where, "exec"), namespace)
                session.ran += 1
            elif block.lang == "bash":
                for line in commands(block.code):
                    name = program(line)
                    if any(p.match(line) for p in SHOWN_ONLY):
                        continue
                    assert name in RUNNABLE, f"{where}: cannot run {line!r}; show or runnable?"
                    session.run(line)
            elif block.lang == "http":
                send_http(session, block)
                session.ran += 1
            elif block.lang == "json":
                check_json(block)
            elif block.lang in ("yaml", "yml"):
                check_yaml(block)
    finally:
        os.chdir(old)
        session.close()
    return session


def _param(page: Path) -> Any:
    name = page.relative_to(DOCS).as_posix()
    marks = [pytest.mark.slow] if name in SLOW else []
    return pytest.param(page, id=name, marks=marks)


@pytest.mark.parametrize("page", [_param(p) for p in PAGES])
def test_every_example_on_the_page_runs(page: Path, tmp_path: Path) -> None:
    session = run_page(page, tmp_path)
    if any(b.lang in ("python", "bash", "http") for b in blocks(page)):
        assert session.ran, f"{page}: nothing ran"


def test_the_generated_reference_is_up_to_date() -> None:
    finished = subprocess.run(
        [sys.executable, str(DOCS / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_the_workflow_file_parses_and_its_commands_are_valid() -> None:
    yaml = pytest.importorskip("yaml")
    text = (DOCS / "how-to" / "github-actions.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert check_workflow(workflow) >= 1
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert any("upload-artifact" in str(s.get("uses", "")) for s in steps)
    assert any("junit" in str(s.get("uses", "")) for s in steps)


def test_every_rule_fixture_and_control_route_is_documented() -> None:
    rules = (DOCS / "reference" / "rules.md").read_text(encoding="utf-8")
    for rule in RULE_IDS:
        assert f"## `{rule}`" in rules, rule
    import harness.pytest_plugin as plugin

    fixtures = (DOCS / "reference" / "fixtures.md").read_text(encoding="utf-8")
    names = [
        name
        for name, value in vars(plugin).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
        or hasattr(value, "_pytestfixturefunction")
        or name == "vexa_async_client"
    ]
    assert "vexa" in names
    for name in names:
        assert f"`{name}`" in fixtures, name
    assert "--vexa-html" in fixtures


def test_the_docs_link_only_to_pages_that_exist() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).resolve().exists(), f"{page}: broken link {target}"
