"""zhtj project package: settings, root URLs, Celery app and cross-app web plumbing."""

from .celery import app as celery_app

__all__ = ["celery_app"]
