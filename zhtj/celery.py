"""The Celery application; tasks run in-process when REDIS_URL is unset (see settings)."""

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

from . import logs  # noqa: F401  (connects the one-line-per-task log)
from .health import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")

app = Celery("zhtj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_heartbeat = None


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    # The worker announces itself for /healthz (zhtj.health); only with a real broker.
    global _heartbeat
    if settings.REDIS_URL and _heartbeat is None:
        _heartbeat = WorkerHeartbeat(getattr(sender, "hostname", None) or f"worker-{os.getpid()}")
        _heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
