"""Erlang B and C against published tables, hand calculations and an exact reference."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.erlang import (
    asa_s,
    erlang_b,
    occupancy,
    probability_of_wait,
    service_level,
    traffic_intensity,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook formula summed in exact rationals: slow, but no rounding to hide behind."""
    term = Fraction(1)
    below = Fraction(0)  # sum of A**k / k! for k < N
    for k in range(agents):
        below += term
        term = term * traffic / (k + 1)
    top = term * agents / (agents - traffic)  # A**N / N! * N / (N - A)
    return top / (below + top)


def log_space_erlang_c(agents: int, traffic: float) -> float:
    """Erlang C in logarithms (log-sum-exp), independent of the recursion under test."""
    logs = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    log_top = (
        agents * math.log(traffic) - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    )
    peak = max(*logs, log_top)
    below = sum(math.exp(x - peak) for x in logs)
    top = math.exp(log_top - peak)
    return top / (below + top)


# ------------------------------------------------------------------ published values


def test_probability_of_wait_matches_the_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example":
    100 calls in 30 minutes with a 180 s handling time is 10 Erlangs, and 11 agents give a
    probability of waiting of 68.21 %; 14 agents are the first to meet 80 % in 20 s."""
    rate = 100 / 1800
    assert traffic_intensity(rate, 180) == pytest.approx(10.0)
    assert probability_of_wait(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(13, rate, 180, 20) < 0.80 <= service_level(14, rate, 180, 20)


@pytest.mark.parametrize(
    ("agents", "traffic", "grade"),
    [
        # Erlang B traffic table (e.g. ITU-D Teletraffic Engineering Handbook, Table of
        # Erlang's B-formula): the load in Erlangs, to two decimals, that N circuits
        # carry at the given blocking.
        (5, 1.36, 0.01),
        (10, 4.46, 0.01),
        (20, 12.03, 0.01),
        (10, 5.08, 0.02),
        (50, 37.90, 0.01),
    ],
)
def test_erlang_b_matches_the_published_traffic_table(
    agents: int, traffic: float, grade: float
) -> None:
    # The table rounds the load to 0.01 Erlang, which moves B by a few parts in 10^4.
    assert erlang_b(agents, traffic) == pytest.approx(grade, abs=3e-4)


# ------------------------------------------------------------------ hand-verifiable cases


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.99])
def test_single_agent_is_mm1(rho: float) -> None:
    """M/M/1: an arrival waits exactly when the one agent is busy, so Pw = rho."""
    aht = 200.0
    rate = rho / aht
    assert probability_of_wait(1, rho) == pytest.approx(rho)
    assert asa_s(1, rate, aht) == pytest.approx(rho / (1 - rho) * aht)
    assert service_level(1, rate, aht, 30) == pytest.approx(
        1 - rho * math.exp(-(1 - rho) * 30 / aht)
    )
    assert occupancy(1, rate, aht) == pytest.approx(rho)


def test_three_agents_two_erlangs_is_four_ninths() -> None:
    """By hand: B(3, 2) = 4/19, so C = 3B / (3 - 2(1 - B)) = (12/19) / (27/19) = 4/9."""
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19)
    assert probability_of_wait(3, 2.0) == pytest.approx(4 / 9)


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [(1, "1/3"), (2, "3/2"), (5, "4"), (10, "8"), (11, "10"), (25, "24"), (55, "48"), (80, "63.5")],
)
def test_probability_of_wait_equals_the_exact_formula(agents: int, traffic: str) -> None:
    a = Fraction(traffic)
    assert probability_of_wait(agents, float(a)) == pytest.approx(
        float(exact_erlang_c(agents, a)), rel=1e-12
    )


@pytest.mark.parametrize(("agents", "traffic"), [(500, 480.0), (2_000, 1_950.5), (10_000, 9_900.0)])
def test_probability_of_wait_is_stable_for_very_large_teams(agents: int, traffic: float) -> None:
    # The plain formula overflows a float beyond ~170 agents; the recursion must not.
    pw = probability_of_wait(agents, traffic)
    assert 0 < pw < 1
    assert pw == pytest.approx(log_space_erlang_c(agents, traffic), rel=1e-9)


def test_asa_and_service_level_follow_from_probability_of_wait() -> None:
    agents, rate, aht, sla = 55, 360 / 1800, 240.0, 15.0  # 48 Erlangs
    pw = probability_of_wait(agents, 48.0)
    assert asa_s(agents, rate, aht) == pytest.approx(pw * aht / 7)
    assert service_level(agents, rate, aht, sla) == pytest.approx(1 - pw * math.exp(-7 * sla / aht))
    assert occupancy(agents, rate, aht) == pytest.approx(48 / 55)


def test_no_traffic_means_nobody_waits() -> None:
    assert probability_of_wait(3, 0.0) == 0.0
    assert asa_s(3, 0.0, 120) == 0.0
    assert service_level(3, 0.0, 120, 0) == 1.0


def test_service_level_at_zero_seconds_is_the_share_answered_at_once() -> None:
    rate, aht = 8 / 180, 180.0
    assert service_level(10, rate, aht, 0) == pytest.approx(1 - probability_of_wait(10, 8.0))


# ------------------------------------------------------------------ properties


@given(
    agents=st.integers(min_value=1, max_value=300),
    load=st.floats(min_value=0.01, max_value=0.99),
)
def test_probability_of_wait_falls_as_agents_are_added(agents: int, load: float) -> None:
    traffic = load * agents
    pw = probability_of_wait(agents, traffic)
    more = probability_of_wait(agents + 1, traffic)
    # A light load on a big team underflows to 0.0, which is right to 300 decimals.
    assert 0 <= more <= pw < 1
    if pw > 1e-200:
        assert more < pw


@given(
    agents=st.integers(min_value=1, max_value=300),
    low=st.floats(min_value=0.01, max_value=0.98),
    step=st.floats(min_value=0.001, max_value=0.5),
)
def test_probability_of_wait_rises_with_load(agents: int, low: float, step: float) -> None:
    high = min(low + step, 0.99)
    pw_low = probability_of_wait(agents, low * agents)
    pw_high = probability_of_wait(agents, high * agents)
    assert pw_low <= pw_high
    if pw_high > 1e-200:
        assert pw_low < pw_high


@given(
    agents=st.integers(min_value=1, max_value=200),
    load=st.floats(min_value=0.05, max_value=0.95),
    sla=st.floats(min_value=0, max_value=600),
)
def test_more_agents_or_a_longer_target_never_lower_the_service_level(
    agents: int, load: float, sla: float
) -> None:
    aht = 240.0
    rate = load * agents / aht
    sl = service_level(agents, rate, aht, sla)
    assert 0 < sl <= 1
    assert service_level(agents + 1, rate, aht, sla) >= sl
    assert service_level(agents, rate, aht, sla + 10) >= sl
    assert asa_s(agents + 1, rate, aht) < asa_s(agents, rate, aht)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "call",
    [
        lambda: probability_of_wait(10, 10.0),
        lambda: probability_of_wait(10, 12.5),
        lambda: service_level(5, 5 / 180, 180, 20),
        lambda: asa_s(5, 6 / 180, 180),
        lambda: occupancy(5, 5 / 180, 180),
    ],
    ids=["pw-at-capacity", "pw-over", "service-level", "asa", "occupancy"],
)
def test_an_unstable_load_is_refused(call: object) -> None:
    with pytest.raises(ValueError, match="unstable system"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: probability_of_wait(0, 0.5), "agents"),
        (lambda: probability_of_wait(3, -1.0), "traffic"),
        (lambda: probability_of_wait(3, math.nan), "traffic"),
        (lambda: traffic_intensity(-0.1, 180), "arrival_rate_per_s"),
        (lambda: traffic_intensity(0.1, 0), "aht_s"),
        (lambda: service_level(3, 0.01, 180, -5), "sla_s"),
        (lambda: erlang_b(-1, 2.0), "agents"),
    ],
)
def test_bad_arguments_name_the_argument(call: object, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        call()  # type: ignore[operator]
