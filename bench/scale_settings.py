"""Settings for bench_scale's gunicorn: production settings (DEBUG off) with plain static storage.

The benches measure pages, not static files; the manifest storage would need a post-processed collectstatic.
"""

from zhtj.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
