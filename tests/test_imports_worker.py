"""Imports with real concurrency: a real Celery worker on Redis, and two imports of one file at once."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from imports import services
from imports.models import ImportJob, ImportStatus
from members.models import Member

from .import_helpers import member_row, upload, xlsx

pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("pool", "parallel_rows"), [("solo", "1000000"), ("prefork", "0")],
                         ids=["solo pool, one process", "prefork pool, the job forks its reader"])
def test_a_real_worker_runs_a_large_import(tree, settings, tmp_path, pool, parallel_rows):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL (a real broker)")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process must reach the test database: PostgreSQL only")
    queue = f"imports-test-{uuid.uuid4().hex[:8]}"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ZHTJ_IMPORT_BACKGROUND_ROWS = 2
    settings.ZHTJ_IMPORT_QUEUE = queue
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": os.environ["REDIS_URL"],
           "MEDIA_ROOT": str(settings.MEDIA_ROOT), "DJANGO_SETTINGS_MODULE": "zhtj.settings",
           "ZHTJ_IMPORT_PARALLEL_ROWS": parallel_rows}
    # prefork: the pool's children are daemonic (multiprocessing may not start children there); the job's os.fork
    # of its reading process must work all the same.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zhtj", "worker", f"--pool={pool}", "--concurrency=1", "-Q", queue,
         "--loglevel=INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        rows = [member_row(f"工{i}") for i in range(5)] + [member_row("工坏", 手机号码="1")]
        job = services.create_job(actor=None, org=tree.branch, upload=upload(xlsx(rows)))
        assert job.background and job.status == ImportStatus.QUEUED
        services.start_job(job)  # autocommit: on_commit sends the task at once
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_done:
                break
            time.sleep(0.5)
        assert job.status == ImportStatus.SUCCEEDED, (job.status, job.error_message)
        assert (job.rows_imported, job.rows_failed) == (5, 1)
        assert Member.objects.filter(branch=tree.branch, person__name__startswith="工").count() == 5
        assert job.failure_file and not job.file
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    expected = "reading in a forked child process" if parallel_rows == "0" else "reading in this process"
    assert f"import job {job.pk}: {expected}" in output, output[-3000:]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_at_once_imports_everyone_once(tree, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for concurrent transactions")
    settings.MEDIA_ROOT = tmp_path / "media"
    data = xlsx([member_row(f"并{i}") for i in range(20)])
    jobs = [services.create_job(actor=None, org=tree.branch, upload=upload(data)) for _ in range(2)]
    results = {}
    barrier = threading.Barrier(2)

    def run(job_id: int) -> None:
        try:
            barrier.wait()
            results[job_id] = services.run_job(job_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job.pk,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    imported = sorted(r.imported for r in results.values())
    assert imported == [0, 20]
    assert Member.objects.filter(person__name__startswith="并").count() == 20
    assert all(j.status == ImportStatus.SUCCEEDED for j in ImportJob.objects.all())
