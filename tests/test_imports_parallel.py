"""Large imports read and clean their rows in a forked child process while the job's process writes: the result
must be the same as in one process, and every way the child can fail must leave the job failed with nothing
imported."""

import os
import threading

import pytest
from django.db import transaction

from imports import services
from imports.models import ImportStatus
from imports.reader import FileError, SheetData

from .import_helpers import db_counts, media, member_row, run_import, with_dimension, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


@pytest.fixture
def forked(settings, monkeypatch):
    """Every import forks (whatever its size), in batches of two rows; counts the forks."""
    settings.ZHTJ_IMPORT_PARALLEL_ROWS = 0
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    # Threads this test session left running (the browser tests' live server) are idle here: only a thread
    # started by a test counts as another thread.
    baseline = threading.active_count()
    monkeypatch.setattr(services, "_single_threaded", lambda: threading.active_count() == baseline)
    real_fork = os.fork
    forks = []

    def fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    return forks


def _mixed_rows() -> list[dict]:
    twin = member_row("己二")
    return [
        member_row("己一"),
        twin,
        member_row("己三", 手机号码="12345"),
        {**twin, "姓名": "己四", "发展团员编号": "201900000999"},  # the same ID number again
        member_row("己五", 民族="地球族"),
        member_row("己六"),
        member_row("己七", 入团年月="某年"),
    ]


def _outcome(job, result) -> tuple:
    return (job.status, result.imported, result.failed, result.failures, job.rows_read, job.rows_imported,
            bool(job.failure_file))


def test_forked_reading_gives_the_same_result_as_one_process(tree, settings, forked):
    data = xlsx(_mixed_rows())
    with transaction.atomic():
        settings.ZHTJ_IMPORT_PARALLEL_ROWS = 10**9
        one_process = _outcome(*run_import(tree.branch, data))
        transaction.set_rollback(True)
    assert not forked

    settings.ZHTJ_IMPORT_PARALLEL_ROWS = 0
    job, result = run_import(tree.branch, data)
    assert forked == [1]
    assert _outcome(job, result) == one_process
    assert (result.imported, result.failed) == (3, 4)
    assert [f["row"] for f in result.failures] == [4, 5, 6, 8]
    assert "row 3 of this file" in result.failures[1]["reason"]


def test_a_crash_while_cleaning_in_the_child_fails_the_job_retryably_and_imports_nothing(tree, forked,
                                                                                       monkeypatch):
    real_clean = services.clean_row

    def crash_on_row_four(number, *args, **kwargs):
        if number == 4:
            raise ValueError("unexpected cell")
        return real_clean(number, *args, **kwargs)

    monkeypatch.setattr(services, "clean_row", crash_on_row_four)
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([member_row(f"庚{i}") for i in range(5)]))
    assert result is None and forked == [1]
    assert job.status == ImportStatus.FAILED and job.retryable and job.file
    assert "nothing was imported" in job.error_message and "ValueError" not in job.error_message
    assert db_counts() == before


def test_a_child_that_dies_fails_the_job_retryably_and_imports_nothing(tree, forked, monkeypatch):
    real_clean = services.clean_row

    def die_on_row_four(number, *args, **kwargs):
        if number == 4:
            os._exit(9)  # as if the kernel killed it
        return real_clean(number, *args, **kwargs)

    monkeypatch.setattr(services, "clean_row", die_on_row_four)
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([member_row(f"辛{i}") for i in range(5)]))
    assert result is None
    assert job.status == ImportStatus.FAILED and job.retryable
    assert db_counts() == before


def test_a_sheet_problem_found_by_the_child_fails_the_job_with_its_sentence(tree, forked, monkeypatch):
    real_iter = SheetData.iter_rows

    def damaged_after_two_rows(self):
        rows = real_iter(self)
        yield next(rows)
        yield next(rows)
        raise FileError("The workbook is damaged or incomplete.")

    monkeypatch.setattr(SheetData, "iter_rows", damaged_after_two_rows)
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([member_row(f"壬{i}") for i in range(5)]))
    assert result is None
    assert job.status == ImportStatus.FAILED and not job.retryable
    assert job.error_message == "The workbook is damaged or incomplete."
    assert db_counts() == before


def test_when_writing_fails_the_child_is_stopped_and_reaped(tree, forked, monkeypatch):
    monkeypatch.setattr(services, "commit_rows", lambda rows, **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([member_row(f"癸{i}") for i in range(9)]))
    assert result is None and forked == [1]
    assert job.status == ImportStatus.FAILED and job.retryable
    assert db_counts() == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, not even a zombie


def test_a_sheet_that_declares_no_extent_forks_only_for_a_background_job(tree, settings, forked):
    rows = [member_row(f"子{i}") for i in range(5)]
    job, result = run_import(tree.branch, with_dimension(xlsx(rows), None))
    assert not job.background and forked == [] and result.imported == 5  # in the request: one process

    settings.ZHTJ_IMPORT_BACKGROUND_ROWS = 2
    job, result = run_import(tree.branch2, with_dimension(xlsx([member_row(f"丑{i}") for i in range(5)]), None))
    assert job.background and forked == [1] and result.imported == 5


def test_a_process_with_other_threads_never_forks(tree, forked):
    # A lock held by another thread at the fork (SQLite's, say) would stay locked forever in the child.
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        job, result = run_import(tree.branch, xlsx([member_row(f"寅{i}") for i in range(5)]))
    finally:
        release.set()
        other.join()
    assert forked == [] and result.imported == 5
