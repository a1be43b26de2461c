"""Periodic work of the approvals engine (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import requests_expire


@shared_task(name="approvals.tasks.expire_requests")
def expire_requests() -> int:
    """Expire unanswered requests; idempotent (the service re-checks each row under a lock)."""
    return requests_expire()
