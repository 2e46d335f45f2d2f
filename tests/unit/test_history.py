"""Historical reports checked against a hand-computed fixture day.

The day is 10 March 2026 in Shanghai (UTC+8, so local midnight is 16:00 UTC the day before),
two queues (support: 20 s target, sales: 30 s), two agents (7 and 8). Every expected figure
below is worked out by hand from the steps, with the reason next to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.daybook import fold as fold_day
from hub.history import Figures, History, Interval, fold, interval_starts
from hub.model import Channel, Interaction, InteractionState, Step

ZONE = ZoneInfo("Asia/Shanghai")
SLA = {"support": 20.0, "sales": 30.0}
ANN, BO = 7, 8


def local(h: int, m: int, s: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, h, m, s, tzinfo=ZONE)


START, END = local(0, 0), local(0, 0, day=11)


def contact(
    iid: int, customer: int, queue: str, channel: Channel, created: datetime
) -> Interaction:
    return Interaction(
        interaction_id=iid,
        conversation_id=iid,
        customer_id=customer,
        channel=channel,
        queue=queue,
        priority=0,
        state=InteractionState.ENDED,
        created_at=created,
        queued_at=created,
    )


CHAT, SMS, EMAIL = Channel.WEBCHAT, Channel.SMS, Channel.EMAIL
RECORDS = [
    # 1: Bo lets the offer expire, Ann answers in 18 s, works 300 s, wraps up 60 s.
    (
        contact(1, 101, "support", CHAT, local(9, 0)),
        [
            Step("queued", local(9, 0)),
            Step("offered", local(9, 0), BO),
            Step("expired", local(9, 0, 15), BO),
            Step("offered", local(9, 0, 15), ANN),
            Step("assigned", local(9, 0, 18), ANN),
            Step("closed_by_agent", local(9, 5, 18), ANN),
            Step("ended", local(9, 6, 18), ANN),
        ],
    ),
    # 2: Ann answers in 40 s, hands it to Bo after 120 s; Bo's answer counts 180 s since it
    # was first queued; Bo works 420 s and wraps up 60 s.
    (
        contact(2, 102, "support", CHAT, local(9, 10)),
        [
            Step("queued", local(9, 10)),
            Step("assigned", local(9, 10, 40), ANN),
            Step("transferred_to_agent", local(9, 12, 40), ANN),
            Step("assigned", local(9, 13), BO),
            Step("closed_by_agent", local(9, 20), BO),
            Step("ended", local(9, 21), BO),
        ],
    ),
    # 3: an SMS to sales, abandoned after a minute.
    (
        contact(3, 103, "sales", SMS, local(9, 30)),
        [Step("queued", local(9, 30)), Step("abandoned", local(9, 31))],
    ),
    # 4: customer 101 again, by email to sales: Bo answers in 10 s, works 600 s, wraps 120 s.
    (
        contact(4, 101, "sales", EMAIL, local(10, 5)),
        [
            Step("queued", local(10, 5)),
            Step("assigned", local(10, 5, 10), BO),
            Step("closed_by_customer", local(10, 15, 10), BO),
            Step("ended", local(10, 17, 10), BO),
        ],
    ),
    # 5: still waiting when the day's data ends.
    (contact(5, 104, "support", CHAT, local(10, 50)), [Step("queued", local(10, 50))]),
    # 6: queued yesterday at 23:58, answered by Ann at 00:01 (180 s), works 120 s, wraps 30 s.
    (
        contact(6, 105, "support", CHAT, local(23, 58, day=9)),
        [
            Step("queued", local(23, 58, day=9)),
            Step("assigned", local(0, 1), ANN),
            Step("closed_by_agent", local(0, 3), ANN),
            Step("ended", local(0, 3, 30), ANN),
        ],
    ),
    # 7: queued at the next midnight: the next day's.
    (contact(7, 106, "support", CHAT, END), [Step("queued", END)]),
]
# Customer 101 wrote yesterday at 20:00 (13 h before contact 1); customer 102 25 h before
# contact 2, outside the 24 h window.
CONTACTS = {
    101: [(local(20, 0, day=9), 50)],
    102: [(local(9, 10) - timedelta(hours=25), 51)],
}
RATINGS = {1: 4.0, 4: 2.0}


def history(interval: Interval) -> History:
    return fold(
        RECORDS,
        start=START,
        end=END,
        interval=interval,
        zone=ZONE,
        sla_s=SLA,
        ratings=RATINGS,
        contacts=CONTACTS,
    )


def by(h: History, group: str) -> dict[object, Figures]:
    return {r.value: r.figures for r in h.totals(group)}  # type: ignore[arg-type]


def test_fixture_day_by_queue() -> None:
    day = by(history(Interval.DAY), "queue")
    support, sales = day["support"], day["sales"]
    # offered: contacts 1, 2 and 5 (6 was queued yesterday, 7 tomorrow)
    assert support.offered == 3
    # answered: 1 (18 s), 2 twice (40 s by Ann, 180 s by Bo), 6 (180 s); within 20 s: only 1
    assert (support.answered, support.within_sla, support.abandoned) == (4, 1, 0)
    assert support.service_level == 0.25  # 1 within / (4 answered + 0 abandoned)
    assert support.asa_s == 104.5  # (18 + 40 + 180 + 180) / 4
    assert support.missed == 1  # Bo let contact 1's offer expire
    assert support.handled == 3  # wrap-ups started: 1, 2 and 6
    assert support.aht_s == 240  # (300 + 120 Ann's part of 2 + 420 Bo's part + 120) / 4 parts
    assert support.wrap_up_avg_s == 50  # (60 + 60 + 30) / 3
    assert support.transfers == 1  # contact 2, Ann to Bo
    assert support.ended == 3  # 1, 2 and 6
    # first contacts: 2 (its earlier contact is 25 h before) and 6; not 1 (13 h before)
    assert support.fcr == pytest.approx(2 / 3)
    assert support.csat_avg == 4.0  # only contact 1 was rated
    # sales: 3 abandoned after 60 s, 4 answered in 10 s (within 30 s)
    assert (sales.offered, sales.answered, sales.abandoned, sales.within_sla) == (2, 1, 1, 1)
    assert sales.service_level == 0.5  # 1 within / (1 answered + 1 abandoned)
    assert sales.asa_s == 10
    assert (sales.aht_s, sales.wrap_up_avg_s) == (600, 120)
    assert sales.fcr == 0  # contact 4 is customer 101's third in 24 h
    assert sales.csat_avg == 2.0
    assert sales.transfers == 0


def test_fixture_day_by_agent() -> None:
    day = by(history(Interval.DAY), "agent")
    nobody, ann, bo = day[None], day[ANN], day[BO]
    # offers and abandons belong to no agent: 1, 2, 3, 4, 5 offered; 3 abandoned
    assert (nobody.offered, nobody.abandoned, nobody.answered) == (5, 1, 0)
    # Ann answered 1 (18 s, within), 2 (40 s), 6 (180 s)
    assert (ann.answered, ann.within_sla) == (3, 1)
    assert ann.asa_s == pytest.approx(238 / 3)
    assert ann.aht_s == 180  # (300 + 120 + 120) / 3 parts
    assert ann.wrap_up_avg_s == 45  # (60 + 30) / 2: she did not wrap up contact 2
    assert (ann.handled, ann.transfers, ann.missed) == (2, 1, 0)
    assert ann.fcr == 0.5  # ended 1 (a repeat) and 6 (a first contact)
    assert ann.csat_avg == 4.0
    # Bo answered 2 (180 s since first queued) and 4 (10 s, within sales' 30 s)
    assert (bo.answered, bo.within_sla, bo.missed) == (2, 1, 1)
    assert bo.asa_s == 95  # (180 + 10) / 2
    assert bo.aht_s == 510  # (420 + 600) / 2
    assert bo.wrap_up_avg_s == 90  # (60 + 120) / 2
    assert bo.fcr == 0.5  # 2 was a first contact, 4 was not
    assert bo.csat_avg == 2.0


def test_fixture_day_by_channel_and_hour() -> None:
    h = history(Interval.HOUR)
    assert len(h.intervals) == 24 and h.intervals[0] == START
    rows = {(r.start, r.value): r.figures for r in h.grouped("channel")}
    # 00:00: contact 6, answered outside the target, worked 120 s, wrapped 30 s
    midnight = rows[(local(0, 0), "webchat")]
    assert (midnight.offered, midnight.answered, midnight.within_sla) == (0, 1, 0)
    assert (midnight.handle_s, midnight.wrap_up_s, midnight.first_contacts) == (120, 30, 1)
    # 09:00 chats: 1 and 2 offered, three answers, Bo's part of 2 ends at 09:20
    nine = rows[(local(9, 0), "webchat")]
    assert (nine.offered, nine.answered, nine.handle_parts, nine.ended) == (2, 3, 3, 2)
    assert rows[(local(9, 0), "sms")].abandoned == 1
    assert rows[(local(10, 0), "email")].answered == 1
    assert rows[(local(10, 0), "webchat")].offered == 1  # 5, still waiting
    # nothing else happened: rows only where something did
    assert set(rows) == {
        (local(0, 0), "webchat"),
        (local(9, 0), "webchat"),
        (local(9, 0), "sms"),
        (local(10, 0), "email"),
        (local(10, 0), "webchat"),
    }
    assert h.total().offered == 5


def test_quarter_hours_split_where_the_steps_fall() -> None:
    rows = {(r.start, r.value): r.figures for r in history(Interval.QUARTER).grouped("agent")}
    # Bo's part of contact 2 ends at 09:20 (the 09:15 quarter); Ann's at 09:12:40
    assert rows[(local(9, 15), BO)].handle_s == 420
    assert rows[(local(9, 0), ANN)].handle_s == 300 + 120
    assert len(history(Interval.QUARTER).intervals) == 96


def test_today_is_the_wallboards_day() -> None:
    """The same steps give the wallboard's per-queue figures and quarter-hour buckets."""
    now = local(23, 0)
    day = fold_day(RECORDS, [], start=START, now=now, sla_s=SLA)
    h = by(history(Interval.DAY), "queue")
    for name, q in day.queues.items():
        got = h[name]
        assert (got.offered, got.answered, got.abandoned) == (q.offered, q.answered, q.abandoned)
        assert (got.service_level, got.asa_s) == (q.service_level, q.asa_s)
    handled = by(history(Interval.DAY), "agent")
    assert {a: x.handled for a, x in day.agents.items()} == {
        a: handled[a].handled for a in day.agents
    }
    quarters: dict[datetime, Figures] = {}
    for r in history(Interval.QUARTER).grouped("queue"):
        quarters.setdefault(r.start, Figures()).add(r.figures)
    for bucket in day.buckets:
        f = quarters.get(bucket.start, Figures())
        assert sum(bucket.contacts.values()) == f.offered
        assert (bucket.answered, bucket.abandoned) == (f.answered, f.abandoned)


def test_intervals_follow_the_local_clock_across_a_clock_change() -> None:
    london = ZoneInfo("Europe/London")
    start = datetime(2026, 10, 25, tzinfo=london)  # clocks go back: a 25-hour day
    end = datetime(2026, 10, 26, tzinfo=london)
    assert len(interval_starts(start, end, Interval.HOUR, london)) == 25
    assert len(interval_starts(start, end, Interval.QUARTER, london)) == 100
    assert interval_starts(start, end + timedelta(days=1), Interval.DAY, london) == [start, end]


def test_no_ratings_means_no_csat() -> None:
    h = fold(RECORDS, start=START, end=END, interval=Interval.DAY, zone=ZONE, sla_s=SLA)
    assert h.total().csat_avg is None
    assert h.total().ended == 4  # 1, 2, 4 and 6, none of them rated
