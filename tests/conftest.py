"""Shared fixtures.

PostgreSQL: tests that need a server take ``pg_url`` (or ``sql_url`` parametrised over SQLite and
PostgreSQL). The server comes from ``CLVMODELS_PG_URL`` (``source .ci/postgres.sh`` starts a
throwaway one). Without it the PostgreSQL tests are skipped, except in CI (``CI`` set), where a
missing or unreachable server is a failure: CI must never pass by skipping them.

Hypothesis: in CI (``CI`` set) the property tests draw a fixed sequence of examples.

Spark: ``spark`` (one local[2] session for the run), ``cdnow_calibration`` (the CDNOW sample's
calibration log) and ``cdnow_spark`` (it summarised on Spark with the test module's
``CDNOW_OPTIONS``); the same rule: skipped locally without pyspark or Java, failing in CI.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from hypothesis import settings

from clvmodels.datasets.cdnow import CALIBRATION_END, load_cdnow_transactions

# CI runs the property tests on a fixed sequence of examples (a random one could fail one run in
# many and pass the next); locally they keep drawing new examples, which is how they find bugs
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _pg_server_url() -> str:
    url = os.environ.get("CLVMODELS_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but CLVMODELS_PG_URL is not: run `source .ci/postgres.sh` before the tests")
        pytest.skip("CLVMODELS_PG_URL is not set; `source .ci/postgres.sh` to run the PostgreSQL tests")
    return url


@pytest.fixture(scope="session")
def pg_server():
    """An engine on the PostgreSQL server of CLVMODELS_PG_URL (autocommit, for CREATE DATABASE)."""
    import sqlalchemy as sa

    from clvmodels.export.sql import make_engine

    url = _pg_server_url()
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"CLVMODELS_PG_URL={url} is set but the server does not answer: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_server):
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import sqlalchemy as sa

    name = f"clvtest_{uuid.uuid4().hex[:12]}"
    with pg_server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # identifier made here, not user data
    url = pg_server.url.set(database=name)
    yield url.render_as_string(hide_password=False)
    with pg_server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scores.db'}"
    return request.getfixturevalue("pg_url")


# ----- Spark (tests marked spark) ----------------------------------------------------------------
def _spark_unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}: run .ci/spark.sh first")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark():
    """A local[2] Spark session for the Spark tests (skipped locally without pyspark or Java,
    failing in CI, which must never pass by skipping them)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _spark_unavailable("pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _spark_unavailable("java is not installed")
    from clvmodels.spark import local_session

    session = local_session(cores=2, shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cdnow_calibration():
    tx = load_cdnow_transactions()
    return tx[tx["date"] <= CALIBRATION_END].reset_index(drop=True)


@pytest.fixture(scope="module")
def cdnow_spark(request, spark, cdnow_calibration):
    """The CDNOW calibration log summarised on Spark with the requesting module's CDNOW_OPTIONS."""
    from clvmodels.spark import spark_rfm_summary

    return spark_rfm_summary(spark.createDataFrame(cdnow_calibration), **request.module.CDNOW_OPTIONS)
