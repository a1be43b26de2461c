"""Periodic work of the transfers app (to be scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import transfers_expire_allocations


@shared_task(name="transfers.tasks.expire_allocations")
def expire_allocations() -> int:
    """Expire allocations left waiting too long; idempotent (each row is re-checked under its lock)."""
    return transfers_expire_allocations()
