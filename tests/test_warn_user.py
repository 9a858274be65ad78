"""Warnings from deep inside the package are attributed to the user's line."""

import warnings

from clvmodels._warn import warn_user


def _user_function():
    warn_user("something to know")  # the line the warning must name
    return _user_function.__code__.co_firstlineno + 1


def test_warning_names_the_first_frame_outside_the_package():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _user_function()
    assert len(caught) == 1
    assert caught[0].filename == __file__
    assert caught[0].lineno == line
