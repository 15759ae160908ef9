"""Several processes on one SQLite store at once (issue 23, item 1): two transcriptions of one corpus, three
editors of one file. The same checks run on PostgreSQL in tests/postgres/test_concurrency.py; the long seeded
suite is bench/bench_concurrency.py."""

from __future__ import annotations

from tests.helpers import check_concurrent_edits, check_concurrent_transcribe


def test_two_transcriptions_at_once_store_each_word_once(tmp_path):
    check_concurrent_transcribe(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path)


def test_three_editors_of_one_file_leave_no_overlapping_segments(tmp_path):
    check_concurrent_edits(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path)
