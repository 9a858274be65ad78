"""Lazy access to pyspark, and a small local session for tests, notebooks and benchmarks.

``import clvmodels`` never imports pyspark: the Spark functions call :func:`require_pyspark` when
they run, which turns a missing installation into one line saying what to install.
"""

from __future__ import annotations

import os
import sys

from clvmodels.errors import ClvError

INSTALL_HINT = (
    "Spark support needs pyspark (and Java 17): pip install 'clvmodels[spark]'; on Databricks "
    "pyspark is already there"
)


def require_pyspark():
    """The ``pyspark.sql`` module, or a :class:`~clvmodels.errors.ClvError` with the install hint."""
    try:
        import pyspark.sql
    except ImportError:
        raise ClvError(INSTALL_HINT) from None
    return pyspark.sql


def local_session(cores: int = 2, shuffle_partitions: int = 4, app_name: str = "clvmodels",
                  **config):
    """A local Spark session in UTC whose workers run this Python (for tests and benchmarks).

    On a cluster (Databricks) use the session you already have; nothing here is needed.

    Parameters
    ----------
    cores : int
        Worker threads (``local[cores]``).
    shuffle_partitions : int
        ``spark.sql.shuffle.partitions``; the default 200 is far too many for one machine.
    **config
        Further Spark settings, e.g. ``{"spark.driver.memory": "4g"}`` (pass as a dict with
        ``**{...}`` since the keys contain dots).
    """
    sql = require_pyspark()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = {
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",  # day numbers are UTC dates, as in the local path
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        **config,
    }
    builder = sql.SparkSession.builder.master(f"local[{int(cores)}]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
