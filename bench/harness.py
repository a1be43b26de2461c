"""Throw-away database set-up shared by the bench/bench_*.py scripts.

`with bench_database("tree") as backend:` picks the database from DATABASE_URL — a `test_<name>` database
created (and dropped afterwards) on the server when it points at PostgreSQL, otherwise a temporary SQLite
file that is migrated and removed afterwards — then runs django.setup() and setup_test_environment(), and
inside the block serves static files from plain storage (production settings want collected, hashed files;
the benches measure pages, not them) with SECURE_SSL_REDIRECT off. It yields "postgresql" or "sqlite" for
the report line. REDIS_URL is dropped so no cache server takes part in the figures.

Enter it before importing anything that needs Django's settings or models.
"""

import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """Set Django up on a fresh database for the bench `name`; yield the backend's name; tear it down."""
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    tmpdir: tempfile.TemporaryDirectory[str] | None = None
    if not postgres:
        tmpdir = tempfile.TemporaryDirectory(prefix=f"zhtj-bench-{name}-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmpdir.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhtj.settings")
    os.environ.pop("REDIS_URL", None)  # the bench measures the pages, not a cache server
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collected static files

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    old_name: str | None = None
    try:
        if postgres:
            old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        else:
            call_command("migrate", verbosity=0, interactive=False)
        plain_static = {**settings.STORAGES,
                        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(STORAGES=plain_static, SECURE_SSL_REDIRECT=False):
            yield "postgresql" if postgres else "sqlite"
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        if tmpdir is not None:
            connection.close()
            tmpdir.cleanup()


def client_for(person, org):
    """A test client logged in as `person`, acting for `org` (as the org switcher leaves the session)."""
    from django.test import Client

    from members.middleware import ACTING_ORG_SESSION_KEY

    client = Client()
    client.force_login(person)
    session = client.session
    session[ACTING_ORG_SESSION_KEY] = org.pk
    session.save()
    return client


def print_pages(results: list[tuple]) -> None:
    """One line per time_page() result."""
    for label, median_ms, worst_ms, sql_ms, queries, items in results:
        print(f"  {label:<36} median {median_ms:6.1f} ms  worst {worst_ms:6.1f} ms  SQL {sql_ms:6.1f} ms"
              f"  {queries:2d} queries  {items:3d} items")


def time_page(client, label: str, url: str, params: dict, count, repeat: int) -> tuple:
    """GET a page `repeat` times after one warm-up; return (label, median ms, worst ms, median SQL ms,
    queries, items) where items = count(response). BENCH_SHOW_SQL=1 prints every query of every request.
    """
    import statistics
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm-up: templates, connection, cached lookups
    times: list[float] = []
    sql_times: list[float] = []
    queries = items = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{label}: HTTP {response.status_code}")
        queries = len(ctx.captured_queries)
        if os.environ.get("BENCH_SHOW_SQL"):
            for q in ctx.captured_queries:
                print(f"    {q['time']}s {q['sql'][:160]}")
        sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        items = count(response)
    return label, statistics.median(times), max(times), statistics.median(sql_times), queries, items
