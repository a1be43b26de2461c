"""/healthz: 200 when the database (and, with REDIS_URL, Redis and a Celery worker) answer; 503 naming what is
down; no login, no secrets."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client

from zhtj import health

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a real Redis)")


@pytest.fixture
def workers_key(monkeypatch):
    key = f"zhtj:test:workers:{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(health, "WORKERS_KEY", key)
    yield key
    if REDIS_URL:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(key)


def test_healthz_answers_200_without_login_when_the_database_answers(db, settings):
    settings.REDIS_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_503_naming_the_database_when_it_is_down(db, settings, monkeypatch):
    settings.REDIS_URL = ""

    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Unreachable())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down"}


def test_healthz_is_not_redirected_to_https(db, settings):
    # Load balancers probe over plain HTTP on the internal network.
    settings.REDIS_URL = ""
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/login/").status_code == 301


@needs_redis
def test_healthz_is_200_with_redis_and_a_fresh_worker_heartbeat(db, settings, workers_key):
    settings.REDIS_URL = REDIS_URL
    health.WorkerHeartbeat("test-worker").beat()
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "ok"}


@needs_redis
def test_healthz_is_503_worker_down_without_a_fresh_heartbeat(db, settings, workers_key):
    import redis

    settings.REDIS_URL = REDIS_URL
    settings.ZHTJ_WORKER_HEARTBEAT_SECONDS = 10
    redis.Redis.from_url(REDIS_URL).zadd(workers_key, {"gone-worker": time.time() - 31})
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "down"}


def test_healthz_is_503_redis_down_when_redis_does_not_answer(db, settings, workers_key):
    # A closed port on loopback: refused at once. The URL (which may hold a password) is never shown.
    settings.REDIS_URL = "redis://:s3cret@127.0.0.1:1/0"
    started = time.monotonic()
    response = Client().get("/healthz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down", "worker": "down"}
    assert b"s3cret" not in response.content and b"127.0.0.1" not in response.content


@needs_redis
@pytest.mark.celery_worker
def test_a_real_worker_announces_itself_and_withdraws_at_shutdown(settings):
    import redis

    settings.REDIS_URL = REDIS_URL
    name = f"healthtest-{uuid.uuid4().hex[:8]}@localhost"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "zhtj.settings", "ZHTJ_WORKER_HEARTBEAT_SECONDS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zhtj", "worker", "--pool=solo", "-n", name,
         "-Q", f"health-{uuid.uuid4().hex[:8]}", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and client.zscore(health.WORKERS_KEY, name) is None:
            time.sleep(0.3)
        assert client.zscore(health.WORKERS_KEY, name) is not None
        assert health.check()["worker"] == "ok"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert client.zscore(health.WORKERS_KEY, name) is None, output[-2000:]
