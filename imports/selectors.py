"""Read-side of imports: fetching a job for an actor, its live progress, the org's import history."""

import contextlib
import fcntl
import os
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from orgs.permissions import Actor, get_org_for, require

from .models import ImportJob, ImportStatus


def get_job_for(actor: Actor, pk: object) -> ImportJob:
    """The job if its org lies in the actor's subtree (404 otherwise); only the org's own admin (403 others)."""
    try:
        job = ImportJob.objects.select_related("org__type", "created_by").get(pk=int(pk))
    except (ImportJob.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    org = get_org_for(actor, job.org_id)
    require(actor.is_admin_of(org))
    return job


def history(org) -> QuerySet[ImportJob]:
    return (ImportJob.objects.filter(org=org).select_related("created_by")
            .defer("failures").order_by("-created_at", "-id"))


def progress(job: ImportJob) -> dict[str, int]:
    """Rows read, validated and imported so far (live from the cache while running, else from the job)."""
    if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        live = cache.get(f"imports:progress:{job.pk}")
        if live:
            return {k: live[k] for k in ("read", "validated", "imported")}
    return {"read": job.rows_read, "validated": job.rows_validated, "imported": job.rows_imported}


# The process running a job holds a lock that the system releases however that process ends (killed, out of
# memory, machine restarted): on PostgreSQL a session-level advisory lock, which the database drops with the
# connection; elsewhere (SQLite: one machine) an flock on a per-job file, which the kernel drops with the
# process. A database heartbeat cannot work on SQLite: the job's one transaction holds the writer lock for the
# whole run, so nobody else could write it, and a cache heartbeat is invisible to other processes without Redis.
JOB_LOCK_CLASS = 0x7A68
_held_files: dict[int, int] = {}  # job id -> file descriptor holding its flock, in this process


def _lock_path(job_id: int) -> Path:
    folder = Path(getattr(settings, "ZHTJ_IMPORT_LOCK_DIR", "") or Path(settings.MEDIA_ROOT) / "imports" / "locks")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"job-{job_id}.lock"


def _flock(job_id: int) -> int | None:
    """An open descriptor holding the job file's exclusive lock, or None when another holds it."""
    path = _lock_path(job_id)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder finished and removed the file between our open and our lock: open it afresh


def try_job_lock(job_id: int) -> bool:
    """Take the job's lock for this connection (PostgreSQL) or process (elsewhere); True when it was free."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id])
            return bool(cursor.fetchone()[0])
    if job_id in _held_files:
        return False
    fd = _flock(job_id)
    if fd is None:
        return False
    _held_files[job_id] = fd
    return True


def release_job_lock(job_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_CLASS, job_id])
        return
    fd = _held_files.pop(job_id, None)
    if fd is not None:
        with contextlib.suppress(FileNotFoundError):
            _lock_path(job_id).unlink()  # before the unlock, so a waiter finds the file gone and starts afresh
        os.close(fd)


def is_stale(job: ImportJob) -> bool:
    """A running job whose process is gone: nobody holds its lock (see above). Changes nothing."""
    if job.status != ImportStatus.RUNNING:
        return False
    if connection.vendor == "postgresql":
        if try_job_lock(job.pk):
            release_job_lock(job.pk)
            return True
        return False
    if job.pk in _held_files:
        return False
    fd = _flock(job.pk)
    if fd is None:
        return False
    os.close(fd)
    return True
