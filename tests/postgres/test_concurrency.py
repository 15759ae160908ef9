"""Several processes on one PostgreSQL store at once (issue 23, item 1); on SQLite: tests/integration."""

from __future__ import annotations

from tests.helpers import check_concurrent_edits, check_concurrent_transcribe
from tests.postgres.conftest import throwaway_pg_database


def test_two_transcriptions_at_once_store_each_word_once(tmp_path):
    with throwaway_pg_database() as url:
        check_concurrent_transcribe(url, tmp_path)


def test_three_editors_of_one_file_leave_no_overlapping_segments(tmp_path):
    with throwaway_pg_database() as url:
        check_concurrent_edits(url, tmp_path)
