"""Progress bars (issue 17, item 10): the library's tiny API (clvmodels.progress), shown where someone
watches or when asked, silent otherwise and under --quiet; warnings in the command line's words."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings

import pytest

from clvmodels import progress
from clvmodels.errors import DataError

LOG = "customer_id,date,amount\nc1,2023-01-05,10.5\nc1,2023-02-07,12.0\nc2,2023-01-20,8.0\n"


def run(args, env_progress=None, code=None):
    env = {**os.environ}
    env.pop("CLVMODELS_PROGRESS", None)
    if env_progress is not None:
        env["CLVMODELS_PROGRESS"] = env_progress
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "clvmodels.cli.main", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_bars_are_silent_when_nobody_watches(capsys):
    """Under pytest stderr is a pipe, not a terminal: automatic mode shows nothing."""
    with progress.progress_mode(None):
        assert not progress.enabled()
        with progress.progress_bar(5, "customer value", unit="customers") as advance:
            for _ in range(5):
                advance()
    assert capsys.readouterr() == ("", "")


def test_a_bar_asked_for_draws_on_stderr_and_leaves_stdout_alone():
    code = ("from clvmodels.progress import progress_bar\n"
            "with progress_bar(3, 'customer value', unit='customers') as advance:\n"
            "    [advance() for _ in range(3)]\n"
            "print('result')\n")
    result = run(None, env_progress="1", code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "result\n"
    assert "customer value" in result.stderr and "customers" in result.stderr
    assert run(None, env_progress="0", code=code).stderr == ""


def test_advance_from_many_threads_counts_every_unit():
    with progress.progress_mode(True):
        with progress.progress_bar(8 * 1000, "draws", unit="draws") as advance:
            threads = [threading.Thread(target=lambda: [advance() for _ in range(1000)]) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            (task,) = progress._display.tasks
            assert task.completed == 8000 and task.total == 8000
        assert progress._display is None  # the last bar closed the display


def test_nested_bars_share_one_display_and_close_in_turn():
    with progress.progress_mode(True):
        with progress.progress_bar(None, "clvmodels pipeline", unit="steps"):
            outer = progress._display
            with progress.progress_bar(10, "customer value", unit="customers") as advance:
                advance(4)
                assert progress._display is outer and len(outer.tasks) == 2
                assert [t.completed for t in outer.tasks] == [0, 4]
            assert len(outer.tasks) == 1
            with progress.paused():  # e.g. while PyMC draws its own bars
                assert not outer.live.is_started
            assert outer.live.is_started
        assert progress._display is None


def test_modes_are_checked_and_restored():
    before = progress.mode()
    with progress.progress_mode(False):
        assert progress.mode() is False and not progress.enabled()
        with progress.progress_bar(3, "x") as advance:
            advance(3)  # a hidden bar still accepts advances
    assert progress.mode() is before
    with pytest.raises(DataError, match="True, False or None"):
        progress.set_progress("yes")


def test_quiet_silences_everything_even_when_bars_are_asked_for(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    quiet = run(["summarise", log, "-o", tmp_path / "s.parquet", "--quiet"], env_progress="1")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    shown = run(["summarise", log, "-o", tmp_path / "s.parquet", "--verbose"], env_progress="1")
    assert shown.returncode == 0 and "summarise transactions" in shown.stderr
    assert "customers: 2" in shown.stdout  # results stay on stdout


def test_warnings_are_one_line_in_flag_words_and_off_under_quiet(monkeypatch, capsys):
    from clvmodels._warn import warn_user
    from clvmodels.cli.progress import NORMAL, QUIET, Reporter

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored after the test
    with progress.progress_mode(None), warnings.catch_warnings():
        warnings.simplefilter("always")
        Reporter(NORMAL).route_warnings()
        warn_user("standard errors are unreliable;\ntry penalizer=0.01 or more data")
        assert capsys.readouterr().err == ("clvmodels: warning: standard errors are unreliable; "
                                           "try --penalizer 0.01 or more data\n")
        Reporter(QUIET).route_warnings()
        assert progress.mode() is False  # --quiet also turns the library's bars off
        warn_user("not shown")
        assert capsys.readouterr().err == ""


def test_in_a_notebook_bars_are_one_output_updated_in_place(monkeypatch):
    """Jupyter: a text output created once (a display id) and updated; no ipywidgets needed."""
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj, raw=False):
            shown.append(obj["text/plain"])

    def display(obj, raw=False, display_id=False):
        assert raw and display_id
        shown.append(obj["text/plain"])
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    with progress.progress_mode(True):
        with progress.progress_bar(None, "clvmodels pipeline", unit="steps"):
            with progress.progress_bar(200, "customer value", unit="customers") as advance:
                advance(50)
                advance(150)
    final = shown[-1].splitlines()
    assert final[0].startswith("clvmodels pipeline ...")
    assert any("customer value [" in text and "200/200 customers" in text for text in shown)
    assert progress._display is None


@pytest.mark.parametrize("method, hidden", [("bayes", True), ("mle", False)])
def test_open_bars_pause_while_the_sampler_draws_its_own(monkeypatch, method, hidden):
    """PyMC's sampler shows its own live bars; two live displays on one terminal garble each other."""
    from clvmodels.models.beta_geo import BetaGeoModel
    from clvmodels.models.gamma_gamma import GammaGammaModel
    from clvmodels.pipeline import PipelineSettings, fit_models

    seen = []

    def fake_fit(self, summary):
        seen.append(progress._display.live.is_started)
        return self

    monkeypatch.setattr(BetaGeoModel, "fit", fake_fit)
    monkeypatch.setattr(GammaGammaModel, "fit", fake_fit)
    with progress.progress_mode(True), progress.progress_bar(None, "fit", unit=""):
        fit_models(None, PipelineSettings(method=method), progressbar=True)
        assert progress._display.live.is_started  # shown again after the fit
    assert seen == [not hidden, not hidden]


def test_the_reporters_row_callback_drives_a_bar_closed_with_its_step():
    from clvmodels.cli.progress import NORMAL, QUIET, Reporter

    with progress.progress_mode(True):
        reporter = Reporter(NORMAL)
        with reporter("export"):
            show = reporter.rows("sql upsert")
            show(400, 1000)
            show(700, 1000)  # done so far, not the increment
            (task,) = progress._display.tasks
            assert (task.description, task.completed, task.total) == ("sql upsert", 700, 1000)
        assert progress._display is None  # the step closed the unfinished bar
        assert Reporter(QUIET).rows("sql upsert") is None  # --quiet: no callback at all
