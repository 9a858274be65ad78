"""Contact sequences and sequence hygiene: returned customers get no further steps."""

from __future__ import annotations

import pandas as pd
import pytest

from clvmodels import DataError, sequence_status
from clvmodels.reactivation import ContactSequence, ContactStep

LIST_DATE = "2024-01-31"
START = "2024-02-01"


@pytest.fixture
def seq():
    return ContactSequence([("letter", 0.6, 0), ("email", 0.05, 14), ContactStep("call", 2.0, 30)],
                           name="3-step")


@pytest.fixture
def campaign(seq):
    ids = pd.Index(["a", "b", "c", "d", "e", "f"], name="customer_id")
    frame = pd.DataFrame({"sequence": seq.name}, index=ids)
    frame.attrs["clvmodels"] = {"campaign": {"list_date": LIST_DATE, "start": START,
                                             "sequences": {seq.name: seq.to_dict()}}}
    return frame


@pytest.fixture
def log():
    rows = [
        ("a", "2024-02-11", 40.0),   # returns on day 10: email (day 14) and call (day 30) cancelled
        ("b", "2023-12-01", 10.0),   # bought only before the list was made: not a return
        ("d", "2024-02-15", 25.0),   # returns on the email's day: the email is cancelled too
        ("d", "2024-02-20", 30.0),
        ("e", "2024-03-20", 50.0),   # buys after as_of: not known yet
        ("zz", "2024-02-05", 99.0),  # not on the campaign list: ignored
    ]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_sequence_costs_schedule_and_round_trip(seq):
    assert seq.cost_per_customer == pytest.approx(2.65)
    assert seq.duration_days == 30
    assert seq.describe() == "letter (day 0, 0.6) > email (day 14, 0.05) > call (day 30, 2)"
    sched = seq.schedule("2024-02-01")
    assert sched["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-01", "2024-02-15", "2024-03-02"]
    assert ContactSequence.from_dict(seq.to_dict()) == seq


@pytest.mark.parametrize("steps, message", [
    ([], "at least one step"),
    ([("letter", -1.0, 0)], "cost must be a finite amount >= 0"),
    ([("letter", 1.0, 5), ("email", 0.1, 2)], "order they are sent"),
    ([("letter", 1.0, 0), ("letter", 1.0, 7)], "unique"),
    ([("letter", 1.0, 1.5)], "whole number of days"),
    ([("", 1.0, 0)], "non-empty name"),
    (["letter"], "a step is a ContactStep"),
])
def test_bad_sequences_are_refused(steps, message):
    with pytest.raises(DataError, match=message):
        ContactSequence(steps)


def test_status_mid_campaign(campaign, log):
    """On 2024-02-20 (day 19): the letter and the email are due for everyone still in the sequence."""
    st = sequence_status(campaign, log, as_of="2024-02-20")
    assert st["status"].to_dict() == {"a": "returned", "b": "in_sequence", "c": "in_sequence",
                                      "d": "returned", "e": "in_sequence", "f": "in_sequence"}
    assert st.loc["a", "returned_on"] == pd.Timestamp("2024-02-11")
    assert st.loc["a", "steps_sent"] == 1
    assert st.loc["a", "steps_cancelled"] == "email (2024-02-15) > call (2024-03-02)"
    assert st.loc["a", "steps_remaining"] == "" and pd.isna(st.loc["a", "next_step"])
    # a step dated on the return day is not sent
    assert st.loc["d", "returned_on"] == pd.Timestamp("2024-02-15")
    assert st.loc["d", "steps_sent"] == 1
    assert st.loc["d", "steps_cancelled"] == "email (2024-02-15) > call (2024-03-02)"
    for cid in ("b", "c", "e"):
        assert pd.isna(st.loc[cid, "returned_on"])
        assert st.loc[cid, "steps_sent"] == 2
        assert st.loc[cid, "next_step"] == "call"
        assert st.loc[cid, "next_step_date"] == pd.Timestamp("2024-03-02")
        assert st.loc[cid, "steps_remaining"] == "call (2024-03-02)"
        assert st.loc[cid, "steps_cancelled"] == ""
    assert st.attrs["clvmodels"]["counts"] == {"returned": 2, "in_sequence": 4, "completed": 0}
    assert list(st.index) == list(campaign.index)


def test_status_after_the_sequence_and_late_return(campaign, log):
    st = sequence_status(campaign, log, as_of="2024-03-31")
    assert st.loc["e", "status"] == "returned"        # its 2024-03-20 purchase is now known
    assert st.loc["e", "steps_sent"] == 3             # every step had gone out before it returned
    assert st.loc["e", "steps_cancelled"] == ""
    assert st.loc["c", "status"] == "completed" and st.loc["c", "steps_sent"] == 3
    assert st.loc["a", "status"] == "returned" and st.loc["a", "steps_sent"] == 1


def test_before_the_start_nothing_is_sent(campaign, log):
    st = sequence_status(campaign, log, as_of=LIST_DATE)
    assert (st["status"] == "in_sequence").all()
    assert (st["steps_sent"] == 0).all()
    assert (st["next_step"] == "letter").all()


def test_explicit_sequence_and_dates_for_a_hand_made_list(seq, log):
    plain = pd.DataFrame(index=pd.Index(["a", "c"], name="customer_id"))
    st = sequence_status(plain, log, as_of="2024-02-20", sequence=seq, list_date=LIST_DATE, start=START)
    assert st["status"].tolist() == ["returned", "in_sequence"]
    with pytest.raises(DataError, match="list_date"):
        sequence_status(plain, log, as_of="2024-02-20", sequence=seq)
    with pytest.raises(DataError, match="which contact sequence"):
        sequence_status(plain, log, as_of="2024-02-20", list_date=LIST_DATE, start=START)


def test_bad_inputs_are_refused(campaign, log):
    with pytest.raises(DataError, match="before the campaign list was made"):
        sequence_status(campaign, log, as_of="2024-01-01")
    numeric = log.assign(customer_id=range(len(log)))
    with pytest.raises(DataError, match="numbers but the campaign list's ids are text"):
        sequence_status(campaign, numeric, as_of="2024-02-20")
    with pytest.raises(DataError, match="lack column 'when'"):
        sequence_status(campaign, log, as_of="2024-02-20", datetime_col="when")
    doubled = pd.concat([campaign, campaign.iloc[:1]])
    doubled.attrs = campaign.attrs
    with pytest.raises(DataError, match=r"duplicated customer ids: 1 row \(e.g. 'a'\)"):
        sequence_status(doubled, log, as_of="2024-02-20")
    bad_dates = log.assign(date=["2024-02-11", "not a date", "2024-02-15", "2024-02-20", "2024-03-20", "x"])
    with pytest.raises(DataError, match="not a date"):
        sequence_status(campaign, bad_dates, as_of="2024-02-20")
