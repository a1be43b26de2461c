"""The expiry task on a real Celery worker over Redis (the beat schedule sends it hourly)."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from approvals.models import ApprovalRequest, RequestStatus
from approvals.services import request_submit
from orgs.permissions import Actor

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"



@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_old_requests(org_types, tree):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL (a real broker)")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process must reach the test database: PostgreSQL only")
    from approvals.tasks import expire_requests

    old = request_submit(kind="org_info", target=tree.branch, changes={"short_name": ["一班团支部", "新"]},
                         actor=Actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
    fresh = request_submit(kind="org_info", target=tree.branch2, changes={"short_name": ["二班团支部", "新"]},
                           actor=Actor(tree.branch2_admin, tree.branch2), deciding_org=tree.gb)
    ApprovalRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    queue = f"approvals-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "zhtj.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zhtj", "worker", "--pool=solo", "-Q", queue, "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        expire_requests.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            old.refresh_from_db()
            if old.status != RequestStatus.PENDING:
                break
            time.sleep(0.5)
        assert old.status == RequestStatus.EXPIRED
        fresh.refresh_from_db()
        assert fresh.is_pending
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
