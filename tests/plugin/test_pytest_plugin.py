"""The pytest plugin, black-box: user test files run through pytester, as a user writes them."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import harness

pytest_plugins = ["pytester"]

# In-process pytester runs drop every module first imported inside them; the harness imports
# some lazily, so a later run would mix two generations of its classes. Import them all now.
for _module in pkgutil.walk_packages(harness.__path__, "harness."):
    if not _module.name.endswith("__main__") and ".clients" not in _module.name:
        importlib.import_module(_module.name)

#: What a user's project would configure; set here so pytest-asyncio does not warn inside.
COMMON = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")


def run(pytester: pytest.Pytester, source: str, *args: str, quiet: bool = True) -> pytest.RunResult:
    """Run ``source`` as a user's test file, in-process (xdist needs a subprocess: see below)."""
    pytester.makepyfile(test_user=source)
    quietly = ["-q"] if quiet else []
    return pytester.runpytest_inprocess(*COMMON, *quietly, *args)


def test_fixtures_give_a_working_fake_in_process(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_send_a_bot(vexa, vexa_client, vexa_user, vexa_clock):
            answer = vexa_client.post(
                "/bots", json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"})
            assert answer.status_code == 202
            vexa_clock.advance(5)
            vexa.model.advance(vexa_clock.now())
            meeting = vexa_client.get("/meetings").json()["meetings"][0]
            assert meeting["status"] == "active"
            assert meeting["user_id"] == vexa_user.user_id
        """,
    )
    result.assert_outcomes(passed=1)


def test_marker_configures_profile_seed_and_users(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.vexa(profile="v0.10", seed=42, users=3)
        def test_configured(vexa, vexa_users, vexa_client):
            assert vexa.profile.name == "v0.10"
            assert vexa.seed == 42
            assert len(vexa_users) == 3
            assert vexa_client.get("/meetings", headers={"X-API-Key": ""}).json() == {
                "detail": "Missing API key"}

        def test_defaults(vexa, vexa_users):
            assert (vexa.profile.name, vexa.seed, len(vexa_users)) == ("docs", 0, 1)
        """,
    )
    result.assert_outcomes(passed=2)


def test_command_line_beats_ini_and_marker_beats_both(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvexa_profile = v0.10\nvexa_seed = 5\n")
    source = """
        import pytest

        def test_from_options(vexa):
            assert (vexa.profile.name, vexa.seed) == ("docs", 9)

        @pytest.mark.vexa(seed=1)
        def test_marker_wins(vexa):
            assert (vexa.profile.name, vexa.seed) == ("docs", 1)
        """
    result = run(pytester, source, "--vexa-profile", "docs", "--vexa-seed", "9", quiet=False)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*vexa-harness: profile=docs seed=9 clock=virtual*"])


def test_ini_alone_sets_the_defaults(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvexa_profile = v0.10\nvexa_seed = 5\n")
    result = run(
        pytester,
        """
        def test_ini(vexa):
            assert (vexa.profile.name, vexa.seed) == ("v0.10", 5)
        """,
        quiet=False,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*vexa-harness: profile=v0.10 seed=5 clock=virtual*"])


def test_bad_configuration_is_a_clear_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvexa_profile = v9\n")
    result = run(pytester, "def test_x(): pass")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*vexa_profile = 'v9'; choose one of docs, v0.10*"])


def test_a_bad_marker_argument_fails_the_test_with_the_fix(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.vexa(profle="v0.10")
        def test_typo(vexa):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*unknown argument(s)*profle*it takes profile, seed, users, clock*"]
    )


def test_faults_and_journal_fixtures(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx, pytest

        def test_reset_after_commit(vexa_client, vexa_faults, vexa_journal):
            vexa_faults.on("POST", "/bots").attempt(1).after_commit().reset()
            with pytest.raises(httpx.ReadError):
                vexa_client.post(
                    "/bots", json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"})
            assert [c.effect for c in vexa_journal.commits()] == ["bot_created"]
        """,
    )
    result.assert_outcomes(passed=1)


def test_server_fixture_serves_the_same_fake_over_a_socket(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import requests

        def test_socket(vexa, vexa_server, vexa_user):
            url = f"{vexa_server.url}/auth/me"
            answer = requests.get(url, headers=vexa_user.headers, timeout=5)
            assert answer.json()["user_id"] == vexa_user.user_id
            assert vexa.journal.requests()[0].path == "/auth/me"
        """,
    )
    result.assert_outcomes(passed=1)


def test_async_client_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.asyncio
        async def test_async(vexa_async_client):
            answer = await vexa_async_client.get("/bots/status")
            assert answer.json() == {"running_bots": []}
        """,
    )
    result.assert_outcomes(passed=1)


def test_a_crash_inside_the_fake_fails_the_test_with_its_traceback(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        import pytest

        def test_crash(vexa, vexa_client, monkeypatch):
            def boom(*args, **kwargs):
                raise RuntimeError("model exploded")
            monkeypatch.setattr(vexa.model, "running", boom)
            with pytest.raises(RuntimeError):
                vexa_client.get("/bots/status")
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ServerError: the fake Vexa crashed while answering*model exploded*"]
    )


def test_each_test_gets_a_fresh_fake(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        BOT = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}

        def test_first(vexa_client):
            assert vexa_client.post("/bots", json=BOT).status_code == 202

        def test_second(vexa_client):
            assert vexa_client.get("/meetings").json() == {"meetings": []}
            assert vexa_client.post("/bots", json=BOT).status_code == 202
        """,
    )
    result.assert_outcomes(passed=2)


def test_the_plugin_runs_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_own_fake_and_port(vexa, vexa_server, n):
            assert vexa_server.port > 0
            assert vexa.model.meetings == {}
        """
    )
    result = pytester.runpytest_subprocess(*COMMON, "-q", "-n", "2")
    result.assert_outcomes(passed=4)


def test_webhook_fixtures_deliver_signed_events_and_retry_a_failing_inbox(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}

        def run_a_meeting(vexa, client):
            client.post("/bots", json=MEET).raise_for_status()
            vexa.advance(10)
            client.delete("/bots/google_meet/abc-defg-hij").raise_for_status()
            vexa.advance(5)

        def test_signed_and_accepted(vexa, vexa_client, vexa_webhooks, vexa_webhook_inbox):
            run_a_meeting(vexa, vexa_client)
            assert vexa_webhooks.settle()
            events = vexa_webhook_inbox.events()
            assert {"meeting.started", "meeting.completed"} <= set(events)
            assert all(d.refused is None for d in vexa_webhook_inbox.received)
            assert all(d.headers["x-webhook-signature"].startswith("sha256=")
                       for d in vexa_webhook_inbox.received)
            assert {d.state for d in vexa_webhooks.deliveries()} == {"delivered"}

        def test_a_500_is_retried(vexa, vexa_client, vexa_webhooks, vexa_webhook_inbox):
            vexa_webhook_inbox.status = 500
            run_a_meeting(vexa, vexa_client)
            vexa_webhooks.settle()
            first = len(vexa_webhook_inbox.received)
            vexa_webhook_inbox.status = 200
            vexa.advance(120)                      # Vexa's schedule: 1, 2, 4 s, then 60 s...
            vexa_webhooks.settle()
            assert len(vexa_webhook_inbox.received) > first
            assert all(d.attempts > 1 for d in vexa_webhooks.deliveries())
        """,
    )
    result.assert_outcomes(passed=2)


# ---------------------------------------------------------------------- verdicts in a test

BLIND = """
import httpx, pytest

BOT = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}

def send(client):
    try:
        return client.post("/bots", json=BOT).status_code
    except httpx.TransportError:
        return None

def test_blind(vexa_client, vexa_faults, vexa_conforms):
    vexa_faults.on("POST", "/bots").attempt(1).after_commit().reset()
    assert send(vexa_client) is None
    assert send(vexa_client) == 409          # re-sent without reading: blind
    vexa_conforms(rules=["no-blind-post"])

def test_careful(vexa_client, vexa_faults, vexa_conforms):
    vexa_faults.on("POST", "/bots").attempt(1).after_commit().reset()
    assert send(vexa_client) is None
    running = [m for m in vexa_client.get("/meetings").json()["meetings"]
               if m["status"] == "requested"]
    assert running                           # read first: the bot exists, send nothing
    (verdict,) = vexa_conforms(rules=["no-blind-post"])
    assert verdict.verdict == "pass"
"""


def test_vexa_conforms_fails_a_blind_post_with_the_evidence(pytester: pytest.Pytester) -> None:
    result = run(pytester, BLIND, quiet=False)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ConformanceFailure: vexa-harness: 1 rule(s) did not hold (no-blind-post)",
            "*FAIL no-blind-post: violated 1 time(s) in 1 run(s)*",
            "*#1 fault reset after_commit*",
            "*#1 cut: reset",
            "*#2 POST /bots ?google_meet/abc-defg-hij? attempt 2*",
        ]
    )


def test_assert_conforms_is_importable_and_judges_runs(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        from harness.pytest_plugin import ConformanceFailure, assert_conforms

        def test_runs_journals_and_fakes(vexa, vexa_client, vexa_journal):
            vexa_client.get("/bots/status")
            verdicts = assert_conforms(vexa_journal)      # a journal: nothing to fail
            assert {v.rule for v in verdicts} >= {"no-blind-post", "bounded-retries"}
            assert assert_conforms(vexa, rules=["client-timeout"])[0].verdict == "skip"
            with pytest.raises(ConformanceFailure, match="client-timeout"):
                assert_conforms(vexa, rules=["client-timeout"], allow_skip=False)
            with pytest.raises(ValueError, match="unknown rule id"):
                assert_conforms(vexa, rules=["no-blind-posts"])
            with pytest.raises(TypeError, match="a FakeVexa, a Journal, a Run"):
                assert_conforms([1, 2])
        """,
    )
    result.assert_outcomes(passed=1)


# ---------------------------------------------------------------------- Hypothesis profiles

SHOW_PROFILE = """
from hypothesis import Phase, settings

def test_profile():
    current = settings.default
    print("PROFILE", settings.get_current_profile_name(), current.max_examples,
          current.stateful_step_count, current.derandomize, Phase.explain in current.phases)
"""


def _profile_line(result: pytest.RunResult) -> str:
    found = re.search(r"PROFILE \S+ \d+ \d+ \w+ \w+", result.stdout.str())
    assert found, result.stdout.str()
    return found.group(0)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("ci", "PROFILE ci 100 10 True False"),
        ("dev", "PROFILE dev 25 10 False True"),
        ("debug", "PROFILE debug 10 10 False True"),
    ],
)
def test_the_plugin_profiles_are_selected_with_hypothesis_profile(
    pytester: pytest.Pytester, profile: str, expected: str
) -> None:
    """In a subprocess: loading a profile changes Hypothesis for the whole process."""
    pytester.makepyfile(test_user=SHOW_PROFILE)
    result = pytester.runpytest_subprocess(*COMMON, "-s", "--hypothesis-profile", profile)
    result.assert_outcomes(passed=1)
    assert _profile_line(result) == expected


def test_a_profile_the_project_registered_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from hypothesis import settings
        settings.register_profile("ci", max_examples=7)
        """
    )
    pytester.makepyfile(test_user=SHOW_PROFILE)
    result = pytester.runpytest_subprocess(*COMMON, "-s", "--hypothesis-profile", "ci")
    result.assert_outcomes(passed=1)
    assert _profile_line(result).startswith("PROFILE ci 7 50 ")  # theirs, whatever it inherits
    dev = pytester.runpytest_subprocess(*COMMON, "-s", "--hypothesis-profile", "dev")
    assert _profile_line(dev) == "PROFILE dev 25 10 False True"


# ---------------------------------------------------------------------- README: Fuzzing


def _fuzzing_quickstart() -> list[str]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("\n## Fuzzing\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    return block.splitlines()


def test_the_readme_fuzzing_quickstart_fails_on_a_blind_post(pytester: pytest.Pytester) -> None:
    """Runs the README's ten lines as they are — all but the install, which is the very
    command ``.ci/run`` runs before the tests (so it ran too)."""
    lines = _fuzzing_quickstart()
    assert len(lines) == 10
    install, *rest = lines
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text("utf-8")
    assert install == 'python -m pip install -e ".[test]"'
    assert 'python -m pip install --quiet -e ".[test]"' in ci
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", "\n".join(rest)],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "RuleViolation: no-blind-post" in out
    assert (
        "state.start_bot(meeting=MeetingRef(platform='google_meet', "
        "native_meeting_id='abc-defg-hij'), faults=[Rule(fault=Reset(), "
        "match=Match(method='POST', path='/bots'), on=Schedule(calls=(1,)), "
        "phase='after_commit')])" in out
    )
    assert "from test_blind_post import BlindPost" in out  # the program runs as it is
    assert "1 failed" in out
