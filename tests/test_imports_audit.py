"""The audit entries of an import carry the uploader's client address, stored on the job at upload time (the job
may run later on a worker, far from the request); the command line has no address."""

from pathlib import Path

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from imports import services
from imports.models import ImportJob
from orgs.permissions import Actor

from .conftest import login_as
from .import_helpers import media, member_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


def _job_entries(job: ImportJob) -> list[AuditEntry]:
    finished = AuditEntry.objects.filter(action="import.finished", target_id=str(job.pk))
    rows = AuditEntry.objects.filter(action__endswith=".imported", after__import_job=job.pk)
    entries = [*finished, *rows]
    assert finished.count() == 1 and rows.exists()
    return entries


def test_web_upload_stores_the_client_address_on_the_job_and_every_audit_entry(tree, client):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(f"/orgs/{tree.branch.pk}/import/",
                           {"file": upload(xlsx([member_row("甲一"), member_row("甲二")]))},
                           REMOTE_ADDR="203.0.113.7")
    assert response.status_code in (200, 302)
    job = ImportJob.objects.get(org=tree.branch)
    assert job.rows_imported == 2
    assert job.uploader_ip == "203.0.113.7"
    entries = _job_entries(job)
    assert len(entries) >= 2
    assert {e.ip for e in entries} == {"203.0.113.7"}
    assert {e.actor_id for e in entries} == {tree.branch_admin.pk}


def test_a_job_run_later_by_a_worker_uses_the_stored_address(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch, ip="2001:db8::5")
    job = services.create_job(actor=actor, org=tree.branch, upload=upload(xlsx([member_row("乙一")])))
    assert job.uploader_ip == "2001:db8::5"
    services.run_job(job.pk)  # as the Celery task does: no request, no actor
    assert {e.ip for e in _job_entries(job)} == {"2001:db8::5"}


def test_the_command_line_import_has_no_address(tree, tmp_path: Path):
    path = tmp_path / "members.xlsx"
    path.write_bytes(xlsx([member_row("丙一")]))
    call_command("import_members", str(path), "--org", tree.branch.code)
    job = ImportJob.objects.get(org=tree.branch)
    assert job.uploader_ip is None
    assert {e.ip for e in _job_entries(job)} == {None}


def test_the_audit_page_lists_the_import_for_the_org_and_its_superiors_only(tree, client):
    from django.urls import reverse

    actor = Actor(person=tree.branch_admin, org=tree.branch, ip="203.0.113.9")
    job = services.create_job(actor=actor, org=tree.branch, upload=upload(xlsx([member_row("丁一")])))
    services.run_job(job.pk)
    expected = {e.pk for e in _job_entries(job)}
    for person, org in ((tree.branch_admin, tree.branch), (tree.root_admin, tree.root)):
        login_as(client, person, org)
        shown = {e.pk for e in client.get(reverse("audit_log")).context["page"].object_list}
        assert expected <= shown
        imported = client.get(reverse("audit_log"), {"action": "member.imported"}).context["page"].object_list
        assert {e.pk for e in imported} == {e.pk for e in _job_entries(job) if e.action == "member.imported"}
    login_as(client, tree.branch2_admin, tree.branch2)
    assert not expected & {e.pk for e in client.get(reverse("audit_log")).context["page"].object_list}
