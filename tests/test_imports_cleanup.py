"""Uploads leave the disk: old failed uploads are purged on the beat schedule, and a deleted job (alone or with
its org) takes its upload and failure workbook with it once the deletion commits."""

import os

import pytest
from django.conf import settings
from django.db import transaction

from imports import services
from imports.models import ImportJob, ImportStatus
from members.models import Member
from orgs import services as org_services
from orgs.models import Org
from orgs.permissions import Actor
from zhtj.celery import app

from . import factories as f
from .import_helpers import media, member_row, run_import, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


def _job_with_both_files(org):
    """A finished job with a failure workbook, and a failed job still holding its upload."""
    done, _ = run_import(org, xlsx([member_row("好"), member_row("坏", 手机号码="1")]))
    assert done.failure_file
    kept = services.create_job(actor=None, org=org, upload=upload(xlsx([member_row("留")])))
    ImportJob.objects.filter(pk=kept.pk).update(status=ImportStatus.FAILED, retryable=True)
    kept.refresh_from_db()
    assert kept.file
    return [done.failure_file.path, kept.file.path]


def test_purge_old_uploads_is_on_the_beat_schedule_and_a_registered_task():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "imports.purge_old_uploads" in tasks
    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)


def test_deleting_an_org_removes_its_jobs_files_from_disk(tree, django_capture_on_commit_callbacks):
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    paths = _job_with_both_files(empty)
    assert all(os.path.exists(p) for p in paths)
    # The finished job imported a member: move them out so the org may be deleted.
    Member.objects.filter(branch=empty).update(branch=tree.branch2)
    with django_capture_on_commit_callbacks(execute=True):
        org_services.org_delete(actor=Actor(person=tree.gb_admin, org=tree.gb), org=empty)
    assert not Org.objects.filter(pk=empty.pk).exists()
    assert not ImportJob.objects.filter(org_id=empty.pk).exists()
    assert not any(os.path.exists(p) for p in paths)


def test_deleting_a_job_removes_its_files_only_once_the_deletion_commits(tree, django_capture_on_commit_callbacks):
    paths = _job_with_both_files(tree.branch)
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        ImportJob.objects.filter(org=tree.branch).delete()
        assert all(os.path.exists(p) for p in paths)  # not before the commit
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert ImportJob.objects.filter(org=tree.branch).count() == 2
    assert all(os.path.exists(p) for p in paths), "a rolled-back deletion keeps the files its rows point at"
    with django_capture_on_commit_callbacks(execute=True):
        ImportJob.objects.filter(org=tree.branch).delete()
    assert not any(os.path.exists(p) for p in paths)
