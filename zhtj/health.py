"""Health of the services a deployment depends on, for /healthz (load balancers, monitors, the CI check).

Each check is cheap and bounded: one `SELECT 1`, one Redis PING and one Redis read, each with a timeout of a
second. Celery workers announce themselves: every worker process writes its name and the time into a Redis
sorted set every few seconds from a thread of its main process (so a worker busy with a long import still
counts as alive); /healthz counts the entries that are fresh. A broadcast `control.ping` would instead wait
for its whole timeout on every check and get no answer from a solo-pool worker in the middle of a task.
"""

import contextlib
import threading
import time

import redis
from django.conf import settings
from django.db import connection

WORKERS_KEY = "zhtj:health:workers"
OK, DOWN = "ok", "down"


def heartbeat_seconds() -> int:
    return getattr(settings, "ZHTJ_WORKER_HEARTBEAT_SECONDS", 10)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return DOWN
    return OK


def check() -> dict[str, str]:
    """{"database": "ok"|"down"} plus "redis" and "worker" when REDIS_URL is set (tasks then need a worker)."""
    status = {"database": _database()}
    if settings.REDIS_URL:
        try:
            client = _redis()
            client.ping()
            status["redis"] = OK
            fresh_since = time.time() - 3 * heartbeat_seconds()
            status["worker"] = OK if client.zcount(WORKERS_KEY, fresh_since, "+inf") else DOWN
        except redis.RedisError:
            status["redis"] = status["worker"] = DOWN
    return status


class WorkerHeartbeat:
    """Started in a Celery worker's main process (worker_ready), stopped at its shutdown."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhtj-heartbeat", daemon=True)

    def beat(self) -> None:
        client = _redis()
        now = time.time()
        pipe = client.pipeline()
        pipe.zadd(WORKERS_KEY, {self.name: now})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - 3600)  # workers long gone
        pipe.execute()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(redis.RedisError):  # Redis down: /healthz says so; try at the next beat
                self.beat()
            self._stop.wait(heartbeat_seconds())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        with contextlib.suppress(redis.RedisError):
            _redis().zrem(WORKERS_KEY, self.name)
