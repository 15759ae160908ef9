"""Workers over a shared store: the queue's claims, leases and recovery on SQLite (on PostgreSQL: tests/postgres;
real worker processes transcribing: tests/integration/test_workers.py and tests/postgres)."""

from __future__ import annotations

import time

from tests.helpers import check_concurrent_claims, queue_corpus


def test_an_expired_lease_is_claimed_again_and_the_old_holder_cannot_finish(store, tmp_path):
    ids = queue_corpus(store, tmp_path / "c", 1)
    batch = store.jobs.start_job("test-queue", {})
    store.queue.enqueue(batch, "transcribe", ids)
    first = store.queue.claim("dead", ["transcribe"], lease_seconds=0.2)
    assert store.queue.claim("alive", ["transcribe"], lease_seconds=30) is None  # leased
    time.sleep(0.3)
    second = store.queue.claim("alive", ["transcribe"], lease_seconds=30)
    assert second.file_id == first.file_id and second.attempts == 2
    assert not store.queue.heartbeat(first.id, "dead") and not store.queue.finish(first.id, "dead")
    assert store.queue.finish(second.id, "alive")
    store.queue.enqueue(batch, "transcribe", ids)  # done items can be queued again (a redo)
    for k in range(3):
        store.queue.claim(f"crash{k}", ["transcribe"], lease_seconds=0.01)
        time.sleep(0.02)
    assert store.queue.claim("next", ["transcribe"]) is None  # given up after 3 attempts, with the reason
    assert "given up after 3 attempts" in store.queue.queue_failures(batch)[0][1]


def test_concurrent_claims_never_hand_out_one_item_twice(tmp_path):
    check_concurrent_claims(f"sqlite:///{tmp_path / 'q.sqlite'}", tmp_path)
