"""The postgres tier: a throwaway PostgreSQL server for the session and a throwaway database per test.

scripts/test.sh starts the server (scripts/pg_test_server.sh) and exports EMOTRACE_TEST_PG_URL; run on its own
(`pytest tests/postgres`), this conftest starts one the same way and stops it at the end. The tier is skipped
only where no PostgreSQL server is installed; an installed server that does not start is an error."""

from __future__ import annotations

import glob
import os
import pwd
import subprocess
from contextlib import contextmanager

import pytest

from tests.helpers import REPO


def _server_installed() -> bool:
    """What scripts/pg_test_server.sh needs: a PostgreSQL server's initdb and a `postgres` user."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return any(os.access(p, os.X_OK) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.fixture(scope="session", autouse=True)
def pg_test_server():
    """EMOTRACE_TEST_PG_URL: the server scripts/test.sh started, else one started here for the session."""
    url = os.environ.get("EMOTRACE_TEST_PG_URL")
    if url:
        yield url
        return
    if not _server_installed():
        pytest.skip("no PostgreSQL server installed on this machine (scripts/pg_test_server.sh needs one)")
    script = REPO / "scripts" / "pg_test_server.sh"
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120).stdout.split()
    if len(out) != 2:
        pytest.fail(f"PostgreSQL is installed but scripts/pg_test_server.sh started no server (printed {out!r})")
    url, folder = out
    os.environ["EMOTRACE_TEST_PG_URL"] = url
    try:
        yield url
    finally:
        os.environ.pop("EMOTRACE_TEST_PG_URL", None)
        subprocess.run(["bash", str(script), "stop", folder], capture_output=True, timeout=120)


@contextmanager
def throwaway_pg_database(prefix: str = "emotrace_test"):
    """A fresh database on the PostgreSQL test server (EMOTRACE_TEST_PG_URL, which `pg_test_server` provides to
    every test of this tier), dropped afterwards. Yields its SQLAlchemy URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = os.environ.get("EMOTRACE_TEST_PG_URL")
    assert server, "throwaway_pg_database is for tests/postgres, whose pg_test_server fixture sets EMOTRACE_TEST_PG_URL"
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
