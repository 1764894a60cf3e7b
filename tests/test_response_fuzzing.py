"""Response fuzzing: schema-valid but unusual answers find a client's parsing bugs, and only those.

Two clients read transcripts. The fragile one assumes every segment names its speaker — api.v1
says ``speaker`` may be ``null`` — and the robust one does not. The state machine, told only to
answer with unusual bodies (``adversary="answers"``), must find the first and leave the second
alone, with the same budget.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from hypothesis import given

from harness import FakeVexa
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter
from harness.conformance.clients import PythonClient
from harness.conformance.verdicts import Budgets
from harness.pytest_plugin import hypothesis_settings
from harness.stateful import find_failure
from harness.strategies import MEETINGS, unusual_answers, vexa_responses

MEETING = MEETINGS[0]


class _Transcripts(HttpxAdapter):
    """The reference client, except that ``get_transcript`` turns the answer into lines."""

    def get_transcript(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any:
        path = f"/transcripts/{args['platform']}/{args['native_meeting_id']}"
        with httpx.Client(
            base_url=base_url, headers={"X-API-Key": api_key}, transport=transport, timeout=10
        ) as http:
            answer = http.get(path)
            answer.raise_for_status()
            return [self.line(segment) for segment in answer.json()["segments"]]

    def line(self, segment: dict[str, Any]) -> str:
        raise NotImplementedError


class FragileTranscripts(_Transcripts):
    """Assumes a segment that has a ``speaker`` names one (api.v1: it may be null)."""

    def line(self, segment: dict[str, Any]) -> str:
        speaker = segment["speaker"].strip() if "speaker" in segment else "?"
        return f"{speaker}: {segment['text']}"


class RobustTranscripts(_Transcripts):
    """Reads only what api.v1 promises, and tolerates the rest."""

    def line(self, segment: dict[str, Any]) -> str:
        speaker = segment.get("speaker") or "unknown speaker"
        return f"{speaker}: {segment.get('text', '')}"


def test_the_answers_adversary_finds_the_null_speaker_crash() -> None:
    failure = find_failure(
        FragileTranscripts(POLICY), adversary="answers", settings=hypothesis_settings("ci")
    )
    assert failure is not None
    assert failure.rule == "parses-valid-answers"
    assert "AttributeError" in failure.message
    # shrunk to one answer, to one get_transcript, and that answer names a null speaker
    assert [step.name for step in failure.steps] == ["get_transcript"]
    (rule,) = failure.plan.rules
    body = json.loads(str(rule.fault.body))  # type: ignore[union-attr]
    speakers = [segment.get("speaker", "(none)") for segment in body["segments"]]
    assert None in speakers


def test_the_answers_adversary_leaves_a_robust_client_alone() -> None:
    assert (
        find_failure(
            RobustTranscripts(POLICY), adversary="answers", settings=hypothesis_settings("ci")
        )
        is None
    )


def test_the_reference_client_parses_every_valid_answer() -> None:
    assert (
        find_failure(HttpxAdapter(POLICY), adversary="answers", settings=hypothesis_settings("ci"))
        is None
    )


def _transcript_call(adapter: object, body: Any) -> str:
    fake = FakeVexa()
    account = fake.create_user()
    rule = json.dumps(body)
    fake.faults.on("GET", "/transcripts/{platform}/{native_meeting_id}").call(1).status(
        200, body=rule
    )
    from harness.conformance.catalogue import Stage
    from harness.conformance.runner import limits_for

    stage = Stage(fake, account, 0, "get_transcript", MEETING.args(), fake.fault_engine.plan, {})
    client = PythonClient(adapter)
    return client.run(stage, limits_for(Budgets(), virtual_time=True)).end


@hypothesis_settings("ci")
@given(body=vexa_responses("TranscriptionResponse"))
def test_robust_parsing_survives_any_valid_transcript(body: Any) -> None:
    """The same property without the state machine: a plain ``@given`` over answers."""
    assert _transcript_call(RobustTranscripts(POLICY), body) == "succeeded"


def test_unusual_answers_are_served_as_they_are() -> None:
    from hypothesis import find

    rule = find(unusual_answers("get_transcript"), lambda r: True)
    fake = FakeVexa()
    account = fake.create_user()
    fake.install_faults(fake.fault_engine.plan.with_rule(rule))
    with fake.client(account) as http:
        answer = http.get(f"/transcripts/{MEETING.key}")
    assert answer.status_code == 200
    assert answer.text == rule.fault.body  # type: ignore[union-attr]
    assert not fake.journal.commits()  # the model was not consulted
