"""Every example in docs/how-to/faults.md runs: the Python blocks, and the control-API calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness import FakeVexa

DOC = Path(__file__).resolve().parents[1] / "docs" / "how-to" / "faults.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
BLOCKS = BLOCK.findall(DOC.read_text(encoding="utf-8"))
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
HTTP = [code for lang, code in BLOCKS if lang == "http"]
SETUP, EXAMPLES = PYTHON[0], PYTHON[1:]


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"python-{i}" for i in range(len(EXAMPLES))])
def test_python_example_runs(code: str) -> None:
    namespace: dict[str, object] = {}
    exec(SETUP, namespace)
    exec(code, namespace)
    fake = namespace["fake"]
    assert isinstance(fake, FakeVexa)
    assert fake.errors == []


@pytest.mark.parametrize("call", HTTP, ids=[f"http-{i}" for i in range(len(HTTP))])
def test_control_api_example_is_accepted(call: str) -> None:
    request_line, _, body = call.partition("\n")
    method, path = request_line.split()
    fake = FakeVexa()
    with fake.client() as client:
        answer = client.request(method, path, json=json.loads(body))
        assert answer.status_code in (200, 201), answer.text
        assert client.get("/_harness/faults").json() == fake.fault_engine.plan.to_json()


def test_the_docs_cover_every_fault_kind() -> None:
    kinds = {"status", "delay", "hang", "reset", "close", "truncate", "garbage", "slow_body"}
    shown = {json.loads(call.partition("\n")[2]).get("fault", {}).get("kind") for call in HTTP}
    assert kinds <= shown
