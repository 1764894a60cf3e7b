"""The pytest plugin, black-box: user test files run through pytester, as a user writes them."""

from __future__ import annotations

import importlib
import pkgutil

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
