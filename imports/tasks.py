"""Celery task for large imports: takes the job id, reloads it and calls the service (which re-checks state)."""

from celery import shared_task


@shared_task(name="imports.run_import", acks_late=True)
def run_import(job_id: int) -> None:
    from .services import run_job

    run_job(job_id)


@shared_task(name="imports.purge_old_uploads")
def purge_old_uploads() -> int:
    """Periodic: uploads of failed jobs are kept for a retry only so long (see services.purge_old_uploads)."""
    from .services import purge_old_uploads as purge

    return purge()


@shared_task(name="imports.mark_interrupted_jobs")
def mark_interrupted_jobs() -> int:
    """Periodic: running jobs whose process died become failed and retryable (see services.mark_interrupted)."""
    from .services import mark_interrupted_jobs as mark

    return mark()
