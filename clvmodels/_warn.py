"""Warnings that point at the user's line, not at library internals.

``warnings.warn(..., stacklevel=k)`` needs the caller to know how deep inside the package it is,
which changes whenever code moves. :func:`warn_user` instead walks up the stack to the first
frame outside the ``clvmodels`` package, so a ``ConvergenceWarning`` raised deep inside ``fit``
is reported at the user's ``model.fit(summary)`` line (Python 3.12's ``skip_file_prefixes`` does
the same; 3.11 lacks it).
"""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` called from :func:`warn_user` that names the first
    frame outside this package (1 = warn_user itself)."""
    frame, level = sys._getframe(1), 1  # frame 1 is warn_user's caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as a warning attributed to the user's code that called into clvmodels.

    Parameters
    ----------
    message : str
        What happened and what to do.
    category : Warning subclass
        E.g. :class:`clvmodels.errors.ConvergenceWarning`.
    """
    warnings.warn(message, category, stacklevel=_user_stacklevel())
