"""Celery task for large imports: takes the job id, reloads it and calls the service (which re-checks state)."""

from celery import shared_task


@shared_task(name="imports.run_import", acks_late=True)
def run_import(job_id: int) -> None:
    from .services import run_job

    run_job(job_id)
