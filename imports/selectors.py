"""Read-side of imports: fetching a job for an actor, its live progress, the org's import history."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.permissions import Actor, get_org_for, may_import_into, require

from .models import ImportJob, ImportStatus

# A running job reports progress at least every batch; this long without a report means its worker died.
STALE_SECONDS = getattr(settings, "ZHTJ_IMPORT_STALE_SECONDS", 120)


def get_job_for(actor: Actor, pk: object) -> ImportJob:
    """The job if its org lies in the actor's subtree (404 otherwise); only those who may import into that org
    (403 others)."""
    try:
        job = ImportJob.objects.select_related("org__type", "created_by").get(pk=int(pk))
    except (ImportJob.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    org = get_org_for(actor, job.org_id)
    require(may_import_into(actor, org))
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


# The worker running a job holds this session-level advisory lock on PostgreSQL; the database releases it
# when the worker's connection ends, however the worker died.
JOB_LOCK_CLASS = 0x7A68


def try_job_lock(job_id: int) -> bool:
    """Take the job's lock for this connection (PostgreSQL); True when it was free. Always True elsewhere."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id])
        return bool(cursor.fetchone()[0])


def release_job_lock(job_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_CLASS, job_id])


def is_stale(job: ImportJob) -> bool:
    """A running job whose worker is gone (killed, out of memory, machine restarted).

    PostgreSQL: nobody holds the job's advisory lock. Elsewhere: no progress report for STALE_SECONDS.
    """
    if job.status != ImportStatus.RUNNING:
        return False
    if connection.vendor == "postgresql":
        if try_job_lock(job.pk):
            release_job_lock(job.pk)
            return True
        return False
    live = cache.get(f"imports:progress:{job.pk}")
    last = live["at"] if live else (job.started_at.timestamp() if job.started_at else 0)
    return time.time() - last > STALE_SECONDS


def refresh_stale(job: ImportJob) -> ImportJob:
    """Mark a job whose worker died as failed and retryable (its transaction rolled back: nothing imported)."""
    if is_stale(job):
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED, retryable=True, finished_at=timezone.now(),
            error_message=_("The import was interrupted (the background worker stopped), so nothing was imported."
                            " You can run it again."))
        if updated:
            job.refresh_from_db()
    return job
