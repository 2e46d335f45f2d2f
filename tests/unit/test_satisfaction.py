"""The CSAT rules (hub.satisfaction) and the queue settings that feed them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.config import ConfigError, load_settings
from hub.errors import Conflict, InvalidInput
from hub.model import Channel, Interaction, InteractionState
from hub.satisfaction import (
    Rating,
    SurveyPolicy,
    bare_score,
    check_replace,
    parse_comment,
    parse_score,
    score_summary,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def interaction(
    state: InteractionState = InteractionState.WRAP_UP,
    channel: Channel = Channel.WEBCHAT,
    agent_id: int | None = 7,
) -> Interaction:
    return Interaction(1, 1, 1, channel, "support", 0, state, NOW, NOW, agent_id=agent_id)


@pytest.mark.parametrize(("raw", "score"), [(1, 1), (5, 5), ("3", 3), (" 4 ", 4)])
def test_satisfaction_score_accepts_one_to_five(raw: object, score: int) -> None:
    assert parse_score(raw) == score


@pytest.mark.parametrize("raw", [0, 6, -1, 3.5, True, None, "", "five", "10", [3]])
def test_satisfaction_score_refuses_anything_else(raw: object) -> None:
    with pytest.raises(InvalidInput, match="score"):
        parse_score(raw)


def test_satisfaction_comment_is_trimmed_and_limited() -> None:
    assert parse_comment(None) == ""
    assert parse_comment("  Thanks!  ") == "Thanks!"
    with pytest.raises(InvalidInput, match="comment"):
        parse_comment("x" * 2001)
    with pytest.raises(InvalidInput, match="comment"):
        parse_comment(42)


@pytest.mark.parametrize(
    ("policy", "inter", "asked"),
    [
        (SurveyPolicy(enabled=True), interaction(), True),
        (SurveyPolicy(enabled=True), interaction(InteractionState.ENDED), True),
        (SurveyPolicy(enabled=False), interaction(), False),
        (SurveyPolicy(enabled=True), interaction(agent_id=None), False),
        (SurveyPolicy(enabled=True), interaction(InteractionState.ABANDONED), False),
        (SurveyPolicy(enabled=True), interaction(InteractionState.ASSIGNED), False),
        (
            SurveyPolicy(enabled=True, channels=frozenset({Channel.SMS})),
            interaction(channel=Channel.WEBCHAT),
            False,
        ),
    ],
)
def test_satisfaction_policy_surveys_served_ended_contacts_on_its_channels(
    policy: SurveyPolicy, inter: Interaction, asked: bool
) -> None:
    assert policy.surveys(inter) is asked


def test_satisfaction_rating_may_change_only_within_the_window() -> None:
    first = Rating(1, 1, 7, Channel.WEBCHAT, 2, "", NOW, NOW)
    check_replace(None, NOW)
    check_replace(first, NOW + timedelta(minutes=15))
    with pytest.raises(Conflict, match="15 minutes"):
        check_replace(first, NOW + timedelta(minutes=15, seconds=1))


def test_satisfaction_followup_at_or_below_threshold_when_a_queue_is_named() -> None:
    policy = SurveyPolicy(enabled=True, low_threshold=2, followup_queue="care")
    assert [policy.wants_followup(s) for s in range(1, 6)] == [True, True, False, False, False]
    assert not SurveyPolicy(enabled=True, low_threshold=2).wants_followup(1)


def _settings(tmp_path: Path, queues: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text(queues)
    return load_settings(config, {})


def test_satisfaction_settings_default_to_off_for_every_channel(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "queues: [{name: support, channels: [webchat]}]\n")
    policy = settings.survey_policies()["support"]
    assert not policy.enabled and policy.channels == frozenset(Channel)
    assert policy.low_threshold == 2 and policy.followup_queue is None


def test_satisfaction_settings_refuse_an_unknown_followup_queue(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"csat\.followup_queue: 'care' is not a queue"):
        _settings(
            tmp_path,
            "queues: [{name: support, channels: [webchat],"
            " csat: {enabled: true, followup_queue: care}}]\n",
        )


def test_satisfaction_settings_need_a_followup_queue_on_the_rated_channels(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="'care' does not accept webchat"):
        _settings(
            tmp_path,
            "queues: [{name: support, channels: [webchat],"
            " csat: {enabled: true, followup_queue: care}},"
            " {name: care, channels: [email]}]\n",
        )


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("4", 4),
        (" 1 ", 1),
        ("5.", 5),
        ("3 .", 3),
        ("0", None),
        ("6", None),
        ("45", None),
        ("4 stars", None),
        ("four", None),
        ("", None),
        ("٣", None),
    ],
)
def test_satisfaction_bare_score_is_only_a_digit_from_one_to_five(
    text: str, score: int | None
) -> None:
    assert bare_score(text) == score


def test_satisfaction_settings_need_a_public_url_to_survey_by_email(tmp_path: Path) -> None:
    queues = (
        "queues: [{name: support, channels: [webchat, email], csat: {enabled: true}}]\n"
        "email: {addresses: {support@example.com: support}}\n"
    )
    with pytest.raises(ConfigError, match=r"surveys by email need http\.public_url"):
        _settings(tmp_path, queues)
    config = tmp_path / "config.yaml"
    config.write_text(queues + "http: {public_url: 'https://help.example.com'}\n")
    assert load_settings(config, {}).survey_policies()["support"].enabled


def test_satisfaction_score_summary_counts_and_averages() -> None:
    assert score_summary({}) == {
        "ratings": 0,
        "average": None,
        "scores": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    summary = score_summary({5: 2, 2: 1})
    assert (summary["ratings"], summary["average"]) == (3, 4.0)
    assert summary["scores"]["5"] == 2 and summary["scores"]["2"] == 1
