"""Storage errors injected at the adapter, on read, write and delete, on local adapters and on
moto: each is retried, a message is deleted only once its file's outputs exist, and a file that
keeps failing waits in the DLQ after five receives with its raw object intact."""

from __future__ import annotations

import time

import orjson
import pytest

from adapters.raw_file_announcer import RawFileAnnouncer
from application.operations.replay_raw_files import ReplayRawFiles
from application.storage_keys import output_keys
from entrypoints.worker.loop import run_worker
from tests.factories import a_record
from tests.integration.backends import BACKENDS, DeleteAfterOutputs, Flaky, InjectedFault, backend, cleaned_ids, settle

pytestmark = pytest.mark.slow

DATE = "2026-11-25"
KEY = f"service-records/date={DATE}/10-00-00_sub-1.json"
GOOD = [f"SR-{i:02d}" for i in range(18)]
RECORDS = [a_record(i) for i in GOOD] + [a_record(f"SR-bad-{i}", {"vehicle.vin": "short"}) for i in range(2)]
META = {"ingested-at": "2026-11-25T10:00:00+00:00", "submission-id": "sub-1"}


@pytest.fixture(params=BACKENDS)
def b(request, tmp_path):
    if request.param == "moto":
        request.getfixturevalue("aws_env")
    with backend(request.param, tmp_path) as made:
        made.raw.put_bytes(KEY, orjson.dumps(RECORDS), META)  # queues its S3 event
        yield made


def manifest_of(b) -> str:
    return output_keys(KEY, b.raw.head(KEY).last_modified).manifest


def assert_every_row_once(b) -> None:
    report = b.reconcile(DATE)
    assert report.ok, report.problems
    assert (report.raw_rows, report.cleaned_rows, report.rejected_rows) == (20, 18, 2)
    assert sorted(cleaned_ids(b, DATE)) == GOOD
    assert b.queue.stats() == type(b.queue.stats())(0, 0, 0)


def test_read_and_write_errors_are_retried_and_the_message_deleted_after_the_outputs(b) -> None:
    raw, cleaned = Flaky(b.raw, read=2), Flaky(b.cleaned, write=2)
    queue = DeleteAfterOutputs(b.queue, lambda: b.cleaned.exists(manifest_of(b)))
    settle(b, queue, b.process(raw=raw, cleaned=cleaned))
    assert raw.calls["read"] >= 3 and cleaned.calls["write"] >= 3  # failed twice each, then went through
    assert queue.deletes == [True]  # one delete, made when the outputs existed
    assert_every_row_once(b)


def test_delete_errors_are_retried_on_stale_outputs_and_on_the_queue(b) -> None:
    # An earlier run found this file unreadable (an older reader): its copy and reason in the
    # error store are stale now and must be deleted; the first two deletes fail.
    keys = output_keys(KEY, b.raw.head(KEY).last_modified)
    stale = [keys.unreadable, keys.unreadable_reason]
    for key in stale:
        b.errors.put_bytes(key, b"{}")
    b.cleaned.put_bytes(keys.manifest, orjson.dumps({"status": "unreadable", "outputs": stale}))
    errors = Flaky(b.errors, delete=2)

    class QueueDeleteFails(DeleteAfterOutputs):
        failures = 2

        def delete(self, receipt_handle: str) -> None:
            if self.failures:
                self.failures -= 1
                raise InjectedFault("injected queue delete failure")
            super().delete(receipt_handle)

    queue = QueueDeleteFails(b.queue, lambda: b.cleaned.exists(keys.manifest))
    settle(b, queue, b.process(errors=errors))
    assert errors.calls["delete"] >= 4 and queue.deletes == [True]
    assert not any(b.errors.exists(key) for key in stale)
    # The file was processed again after each failed queue delete: still every row once.
    rejected = [orjson.loads(line) for line in b.errors.read_bytes(keys.rejected).splitlines()]
    assert sorted(r["service_record_id"] for r in rejected) == ["SR-bad-0", "SR-bad-1"]
    assert_every_row_once(b)


def test_a_file_that_keeps_failing_waits_in_the_dlq_with_its_raw_intact(b) -> None:
    original = b.raw.read_bytes(KEY)
    raw = Flaky(b.raw, read=-1)
    for _ in range(12):
        run_worker(b.queue, b.process(raw=raw), drain=True, visibility_timeout=b.visibility_timeout)
        if b.queue.stats().dead_letter:
            break
        time.sleep(b.visibility_timeout + 0.2)  # the failed message comes back
    assert b.queue.stats().dead_letter == 1 and raw.calls["read"] == 5  # five receives, five tries
    (letter,) = b.queue.dead_letters(10)
    assert letter.raw_keys == [KEY]
    assert b.raw.read_bytes(KEY) == original and not b.cleaned.exists(manifest_of(b))
    assert [p.problem for p in b.reconcile(DATE).problems] == ["in none: not processed yet (20 rows)"]

    # Mended: replayed (or, locally and on SQS, `dlq redrive`), the file is processed once.
    ReplayRawFiles(b.raw, RawFileAnnouncer(b.queue, "raw"))(date=DATE)
    settle(b, b.queue, b.process())
    report = b.reconcile(DATE)
    assert report.ok and (report.cleaned_rows, report.rejected_rows) == (18, 2)
    assert sorted(cleaned_ids(b, DATE)) == GOOD
