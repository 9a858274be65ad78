"""Text timestamps are read with one format for the whole column or refused, identically for a
DataFrame and the same data as a CSV file; setting dates accept every date type, ISO text only,
whatever ``datetime_format`` says (issue 17, item 1 and 2)."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from clvmodels import DataError, calibration_holdout_summary, rfm_summary
from clvmodels.data import timestamps
from clvmodels.datasets import load_cdnow_transactions

DAY_FIRST = "%d/%m/%Y %H:%M"
MONTH_FIRST = "%m/%d/%Y %H:%M"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The CDNOW 1/10 sample with a clock time per row (minutes from the row number), so the text
    carries ``%H:%M`` as in the issue's ``02/08/1997 15:09``."""
    log = load_cdnow_transactions()
    minutes = pd.to_timedelta((log.index.to_numpy() % 1440).astype("int64"), unit="min")
    return log.assign(date=log["date"] + minutes)


def as_text(log: pd.DataFrame, fmt: str) -> pd.DataFrame:
    return log.assign(date=log["date"].dt.strftime(fmt))


def both_ways(log: pd.DataFrame, tmp_path, **options):
    """The summary of ``log`` as a DataFrame and as a CSV file, or their refusals' messages."""
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    out = []
    for source in (log, path):
        try:
            out.append(rfm_summary(source, **options))
        except DataError as err:
            out.append(str(err))
    return out


OPTIONS = {"monetary_value_col": "amount", "zero_amounts": "keep", "time_unit": "W"}


def test_day_first_cdnow_text_is_read_day_first(cdnow, tmp_path):
    """The issue's case: CDNOW written ``%d/%m/%Y %H:%M`` used to give 785 wrong customers out of
    2,357 (pandas read ambiguous dates month-first, then re-read the rest day-first value by
    value). Some days exceed 12, so only day-first reads every value: it is the reading, for the
    DataFrame and the CSV alike, and the summary equals the one of the typed dates."""
    truth = rfm_summary(cdnow, **OPTIONS)
    frame, csv = both_ways(as_text(cdnow, DAY_FIRST), tmp_path, **OPTIONS)
    pd.testing.assert_frame_equal(frame, truth, check_exact=True)
    pd.testing.assert_frame_equal(csv, truth, check_exact=True)
    assert len(truth) == 2357


def test_month_first_cdnow_text_is_read_month_first(cdnow, tmp_path):
    truth = rfm_summary(cdnow, **OPTIONS)
    for summary in both_ways(as_text(cdnow, MONTH_FIRST), tmp_path, **OPTIONS):
        pd.testing.assert_frame_equal(summary, truth, check_exact=True)


def test_ambiguous_column_is_refused_naming_both_readings(cdnow, tmp_path):
    """Purchases on days 1-12 only: day-first and month-first read every value, differently."""
    early = cdnow[cdnow["date"].dt.day <= 12]
    frame, csv = both_ways(as_text(early, DAY_FIRST), tmp_path, **OPTIONS)
    assert isinstance(frame, str) and frame == csv  # identical refusals
    differ = (early["date"].dt.day != early["date"].dt.month).to_numpy()
    example = as_text(early, DAY_FIRST)["date"][differ].min()  # the smallest differing text
    assert example.startswith("01/02/1997")  # 1 February day first, 2 January month first
    for part in (f"'{DAY_FIRST}' (day first)", f"'{MONTH_FIRST}' (month first)",
                 f"'{example}' is 1 February 1997 by the first, 2 January 1997 by the second",
                 f"in {int(differ.sum())} rows", f'datetime_format="{DAY_FIRST}"',
                 f'datetime_format="{MONTH_FIRST}"'):
        assert part in frame, f"{part!r} not in {frame}"


def test_ambiguous_column_is_read_right_with_the_format(cdnow, tmp_path):
    early = cdnow[cdnow["date"].dt.day <= 12]
    truth = rfm_summary(early, **OPTIONS)
    for summary in both_ways(as_text(early, DAY_FIRST), tmp_path, datetime_format=DAY_FIRST,
                             **OPTIONS):
        pd.testing.assert_frame_equal(summary, truth, check_exact=True)


def test_readings_that_agree_everywhere_are_not_ambiguous(tmp_path):
    """Days equal to months (01/01, 02/02, ...) read the same both ways: nothing can be misread,
    so the column is read (decision documented in clvmodels.data.timestamps)."""
    log = pd.DataFrame({"customer_id": [1, 1, 2], "date": ["01/01/2020", "03/03/2020", "02/02/2020"]})
    for summary in both_ways(log, tmp_path):
        assert summary["recency"].tolist() == [62.0, 0.0]  # 1 Jan -> 3 Mar 2020 (leap year)
        assert summary["T"].tolist() == [62.0, 30.0]


def test_hand_checked_day_first_log(tmp_path):
    """Customer 1 buys on 2 Aug and 18 Aug 1997 (day first; 18 rules out month first), customer
    2 on 5 Aug: frequency 1 and 0, recency 16 and 0 days, T to 18 Aug = 16 and 13 days."""
    log = pd.DataFrame({"customer_id": [1, 2, 1], "date": ["02/08/1997", "05/08/1997", "18/08/1997"],
                        "amount": [10.0, 5.0, 30.0]})
    for summary in both_ways(log, tmp_path, monetary_value_col="amount"):
        assert summary["frequency"].tolist() == [1, 0]
        assert summary["recency"].tolist() == [16.0, 0.0]
        assert summary["T"].tolist() == [16.0, 13.0]
        assert summary["monetary_value"].tolist() == [30.0, 0.0]  # repeat purchases only


def test_no_single_format_reads_every_value_is_refused(tmp_path):
    """The old value-by-value re-parse read each of these its own way; now the values the closest
    format cannot read are refused, with their count, example ids and datetime_format=."""
    log = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                        "date": ["02/08/1997", "18/08/1997", "1997-08-20", "Aug 21, 1997"]})
    frame, csv = both_ways(log, tmp_path)
    assert isinstance(frame, str) and frame == csv
    assert "timestamp that cannot be read (column 'date') in 2 rows (e.g. 'c', 'd')" in frame
    assert "the closest, '%d/%m/%Y' (day first), reads 2 of 4" in frame
    assert "datetime_format=" in frame


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
                                 "%Y-%m-%dT%H:%M:%SZ"])
def test_iso_8601_needs_no_format(cdnow, tmp_path, fmt):
    truth = rfm_summary(cdnow, **OPTIONS)
    for summary in both_ways(as_text(cdnow, fmt), tmp_path, **OPTIONS):
        pd.testing.assert_frame_equal(summary, truth, check_exact=True)


@pytest.mark.parametrize("fmt", ["%d.%m.%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d/%m/%y", "%b %d, %Y",
                                 "%d %B %Y", "%Y/%m/%d %H:%M"])
def test_other_formats_are_inferred_when_only_one_reads_every_value(cdnow, tmp_path, fmt):
    truth = rfm_summary(cdnow.assign(date=cdnow["date"].dt.normalize()), **OPTIONS)
    for summary in both_ways(as_text(cdnow, fmt), tmp_path, **OPTIONS):
        pd.testing.assert_frame_equal(summary, truth, check_exact=True)


def test_iso_is_a_format_name_too(tmp_path):
    log = pd.DataFrame({"customer_id": [1, 1], "date": ["2020-01-01", "2020-01-05T10:00"]})
    for summary in both_ways(log, tmp_path, datetime_format="ISO8601"):
        assert summary["recency"].tolist() == [4.0]


def test_a_bad_format_is_refused(tmp_path):
    log = pd.DataFrame({"customer_id": [1], "date": ["2020-01-01"]})
    frame, csv = both_ways(log, tmp_path, datetime_format="%Q")
    assert frame == csv and "datetime_format='%Q' is not a valid strftime format" in frame
    frame, csv = both_ways(log, tmp_path, datetime_format="day/month")
    assert frame == csv and "is not a strftime format" in frame


def test_numbers_need_a_format_in_a_csv_as_in_a_frame(tmp_path):
    log = pd.DataFrame({"customer_id": [1, 1], "date": [19970101, 19970118]})
    frame, csv = both_ways(log, tmp_path)
    assert frame == csv and "are numbers; pass datetime_format=" in frame


def test_same_reading_and_refusal_whatever_the_thread_count(cdnow, tmp_path):
    early = as_text(cdnow[cdnow["date"].dt.day <= 12], DAY_FIRST)
    full = as_text(cdnow, DAY_FIRST)
    results = []
    for threads in (1, 2):
        config = {"threads": threads}
        results.append(both_ways(full, tmp_path, duckdb_config=config, **OPTIONS)[1])
        results.append(both_ways(early, tmp_path, duckdb_config=config, **OPTIONS)[1])
    pd.testing.assert_frame_equal(results[0], results[2], check_exact=True)
    assert isinstance(results[1], str) and results[1] == results[3]


def test_candidates_try_both_day_orders_and_never_year_day_month():
    """A guess from ``18/01/1997`` alone is day-first; its swap is tried too, so a month-first
    reading is always counted. Year-first text is only read year-month-day."""
    assert timestamps.candidate_formats(["18/01/1997 15:09"]) == [
        timestamps.ISO, "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]
    assert timestamps.candidate_formats(["1997/01/02"]) == [timestamps.ISO, "%Y/%m/%d"]
    assert timestamps.candidate_formats(["1997-01-02"]) == [timestamps.ISO]


# -- setting dates ----------------------------------------------------------------------------

END = "1997-09-30"
SETTING_DATES = {
    "iso text": "1997-09-30",
    "iso text with time": "1997-09-30T18:00:00",
    "datetime": datetime.datetime(1997, 9, 30, 18, 0),
    "date": datetime.date(1997, 9, 30),
    "Timestamp": pd.Timestamp("1997-09-30 12:00"),
    "aware Timestamp": pd.Timestamp("1997-09-30 20:00", tz="America/New_York").tz_convert("Asia/Tokyo"),
    "Period (day)": pd.Period("1997-09-30", "D"),
    "Period (month): its last day": pd.Period("1997-09", "M"),
    "datetime64 (day)": np.datetime64("1997-09-30"),
    "datetime64 (second)": np.datetime64("1997-09-30T23:59:59"),
    "datetime64 (month): its last day": np.datetime64("1997-09"),
}


@pytest.mark.parametrize("name", list(SETTING_DATES))
def test_observation_end_of_every_date_type(cdnow, name):
    """Each stands for 30 September 1997 (an aware time is taken as its UTC date:
    20:00 New York is 00:00 UTC on 1 October, so that one is tested one day later)."""
    value = SETTING_DATES[name]
    log = cdnow[cdnow["date"] < "1997-10-02"]
    expected_end = "1997-10-01" if name == "aware Timestamp" else END
    truth = rfm_summary(log, observation_period_end=expected_end, late_purchases="drop")
    got = rfm_summary(log, observation_period_end=value, late_purchases="drop")
    pd.testing.assert_frame_equal(got, truth, check_exact=True)
    assert got.attrs["clvmodels"]["observation_end"] == expected_end


@pytest.mark.parametrize("name", ["date", "Period (month): its last day", "datetime64 (day)",
                                  "Timestamp"])
def test_calibration_end_of_every_date_type(cdnow, name):
    truth = calibration_holdout_summary(cdnow, calibration_period_end=END,
                                        observation_period_end="1998-06-30")
    got = calibration_holdout_summary(cdnow, calibration_period_end=SETTING_DATES[name],
                                      observation_period_end=pd.Period("1998-06", "M"))
    pd.testing.assert_frame_equal(got, truth, check_exact=True)


def test_setting_dates_ignore_the_logs_format(cdnow, tmp_path):
    """Issue 17 item 2: ``datetime_format`` used to be applied to observation_period_end too."""
    text = as_text(cdnow, DAY_FIRST)
    truth = rfm_summary(cdnow, observation_period_end=END, late_purchases="drop")
    for summary in both_ways(text, tmp_path, datetime_format=DAY_FIRST, observation_period_end=END,
                             late_purchases="drop"):
        pd.testing.assert_frame_equal(summary, truth, check_exact=True)


@pytest.mark.parametrize("value, message", [
    ("30/09/1997", "is not a date in ISO 8601 (year-month-day)"),
    ("09/30/1997", "is not a date in ISO 8601 (year-month-day)"),
    ("1997-09", "is not a date in ISO 8601 (year-month-day)"),
    ("1997-02-30", "is not a date (no such day or time)"),
    (19970930, "(int) is not a date"),
    (True, "(bool) is not a date"),
])
def test_setting_dates_that_are_not_dates_are_refused(cdnow, value, message):
    with pytest.raises(DataError) as caught:
        rfm_summary(cdnow, observation_period_end=value, datetime_format=DAY_FIRST)
    assert message in str(caught.value) and "'1997-09-30'" in str(caught.value)


# -- one rule, every entry point ----------------------------------------------------------------

FORMS = {  # four purchases of customers a, a, b, c; each list is one column's text
    "ISO with offsets": ["2020-01-01T10:00:00+02:00", "2020-01-05T23:30:00-05:00",
                         "2020-01-02T00:00:00Z", "2020-01-03 01:00+0100"],
    "zone names": ["2020-01-01 10:00:00 UTC", "2020-01-05 23:30:00 UTC", "2020-01-02 00:00:00 UTC",
                   "2020-01-03 01:00:00 UTC"],
    "ISO, nanoseconds": ["2020-01-01 10:00:00.123456789", "2020-01-02", "2020-01-03", "2020-01-04"],
    "ISO, unpadded": ["2020-1-1", "2020-1-15", "2020-2-1", "2020-12-3"],
    "surrounding spaces": [" 01/02/2020", "18/02/2020 ", " 03/02/2020 ", "04/02/2020"],
    "day first with offsets": ["01/02/2020 10:00+0200", "18/02/2020 10:00+0200",
                               "03/02/2020 10:00-0500", "04/02/2020 22:00-0500"],
    "two-digit years": ["01/02/97", "18/02/97", "03/02/97", "04/02/97"],
    "AM/PM": ["01/18/1997 03:09 PM", "01/19/1997 11:09 PM", "02/01/1997 12:00 AM",
              "02/03/1997 1:00 am"],
    "month names": ["Jan 5, 2020", "Feb 18, 2020", "Mar 1, 2020", "Dec 31, 2020"],
    "ambiguous dots": ["01.02.2020", "03.04.2020", "05.06.2020", "07.08.2020"],
    "ISO and day first mixed": [" 2020-01-01", "2020-01-05 ", " 18/01/2020 ", "2020-01-03"],
    "a blank": ["2020-01-01", "  ", "2020-01-02", "2020-01-03"],
    "aware and naive": ["2020-01-01T10:00:00+02:00", "2020-01-05", "2020-01-02", "2020-01-03"],
}


@pytest.mark.parametrize("name", list(FORMS))
def test_every_entry_point_reads_or_refuses_alike(tmp_path, name):
    """A DataFrame (str, categorical and object columns), a CSV and a Parquet file of the same
    text give the same summary or the same refusal."""
    log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "date": FORMS[name]})
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet")
    results = []
    for source in (log, log.astype({"date": "category"}), log.astype({"date": object}),
                   tmp_path / "log.csv", tmp_path / "log.parquet"):
        try:
            results.append(rfm_summary(source))
        except DataError as err:
            results.append(str(err))
    for other in results[1:]:
        assert type(other) is type(results[0])
        if isinstance(other, str):
            assert other == results[0]
        else:
            pd.testing.assert_frame_equal(other, results[0], check_exact=True)
    refused = {"ambiguous dots": "reads two ways", "ISO and day first mixed": "cannot be read",
               "a blank": "missing timestamp", "aware and naive": "naive timestamps mixed"}
    if name in refused:
        assert refused[name] in results[0]
    else:
        assert results[0]["frequency"].tolist() == [1, 0, 0]
