"""Import jobs end to end: result sentence, failure workbook and the round trip, all-or-nothing commits,
crashes and retries, duplicate uploads, background runs, and the operator command."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from imports import selectors, services
from imports.models import ImportJob, ImportStatus
from members.models import Member
from orgs.models import OrgAdmin
from orgs.permissions import Actor

from .conftest import login_as
from .import_helpers import (  # noqa: F401
    db_counts,
    live_worker,
    media,
    member_row,
    read_xlsx,
    run_import,
    upload,
    write,
    xlsx,
)

pytestmark = pytest.mark.usefixtures("media", "english")



def _rows_with_three_bad() -> list[dict]:
    return [
        member_row("甲一"),
        member_row("甲二", 手机号码="12345"),
        member_row("甲三"),
        member_row("甲四", 民族="地球族", 职业="=1+2"),
        member_row("甲五", 入团年月="某年"),
    ]


def test_result_page_says_the_sentence_and_lists_the_failures(tree, client):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(xlsx(_rows_with_three_bad()))})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert services.result_sentence("member", 2, 3) in page
    assert "Imported 2 member(s), 3 member(s) failed to import" in page
    for row in (3, 5, 6):
        assert f'<td class="text-end">{row}</td>' in page
    assert "failures.xlsx" in page


def test_failure_workbook_keeps_the_layout_highlights_bad_cells_and_writes_formulas_as_text(tree, client):
    rows = _rows_with_three_bad()
    headers = ["备注", *rows[0].keys()]
    job, result = run_import(tree.branch, xlsx(rows, headers=headers, title_rows=[["标题"]]))
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(f"/imports/{job.pk}/failures.xlsx")
    assert response.status_code == 200
    book = read_xlsx(b"".join(response.streaming_content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:-1] == headers and header[-1] == "Failure reason"
    assert [sheet.cell(row=r, column=2).value for r in (2, 3, 4)] == ["甲二", "甲四", "甲五"]
    phone = sheet.cell(row=2, column=headers.index("手机号码") + 1)
    assert phone.fill.fgColor.rgb.endswith("FFC7CE") and "11-digit" in phone.comment.text
    ethnicity = sheet.cell(row=3, column=headers.index("民族") + 1)
    assert ethnicity.comment is not None and sheet.cell(row=3, column=2).comment is None
    occupation = sheet.cell(row=3, column=headers.index("职业") + 1)
    assert occupation.value == "=1+2" and occupation.data_type == "s"
    id_cell = sheet.cell(row=2, column=headers.index("身份证号码") + 1)
    assert id_cell.data_type == "s" and id_cell.number_format == "@"
    assert "入团年月" in sheet.cell(row=4, column=len(header)).value


def test_round_trip_fix_the_failure_workbook_and_upload_it_again(tree, client):
    job, result = run_import(tree.branch, xlsx(_rows_with_three_bad()))
    assert (result.imported, result.failed) == (2, 3)
    login_as(client, tree.branch_admin, tree.branch)
    book = read_xlsx(b"".join(client.get(f"/imports/{job.pk}/failures.xlsx").streaming_content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    fixes = {"甲二": {"手机号码": "13700137000"}, "甲四": {"民族": "汉族"},
             "甲五": {"入团年月": "2019-05", "发展团员编号": "201912345678"}}
    for r in range(2, sheet.max_row + 1):
        for column, value in fixes[sheet.cell(row=r, column=1).value].items():
            sheet.cell(row=r, column=header.index(column) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(out.getvalue(), "fixed.xlsx")})
    again = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert (again.rows_imported, again.rows_failed) == (3, 0), again.failures
    assert Member.objects.filter(branch=tree.branch, person__name__startswith="甲").count() == 5
    assert not again.failure_file
    assert client.get(f"/imports/{again.pk}/failures.xlsx").status_code == 404


def test_every_row_failing_still_gives_a_workbook(tree):
    job, result = run_import(tree.branch, xlsx([member_row("乙一", 手机号码="1"), member_row("乙二", 手机号码="2")]))
    assert (result.imported, result.failed) == (0, 2)
    assert job.status == ImportStatus.SUCCEEDED and job.failure_file
    assert read_xlsx(job.failure_file.read()).active.max_row == 3


def test_upload_is_deleted_when_the_job_no_longer_needs_it(tree):
    job, _ = run_import(tree.branch, xlsx([member_row("丙一")]))
    assert job.status == ImportStatus.SUCCEEDED and not job.file
    assert not any((Path(job.failure_file.storage.location) / "imports" / "uploads").glob("*"))


def test_same_file_uploaded_twice_imports_nobody_twice(tree):
    data = xlsx([member_row("丁一"), member_row("丁二")])
    first, r1 = run_import(tree.branch, data)
    counts = db_counts()
    second, r2 = run_import(tree.branch, data)
    assert (r1.imported, r2.imported, r2.failed) == (2, 0, 2)
    assert all("Already a member here." in f["reason"] for f in r2.failures)
    assert db_counts()[:3] == counts[:3]
    assert first.file_sha256 == second.file_sha256


def test_crash_mid_commit_commits_nothing_and_the_job_can_be_retried(tree, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    real_commit = services.commit_rows
    calls = []

    def crash_on_second_batch(rows, **kwargs):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("worker lost its database connection")
        return real_commit(rows, **kwargs)

    monkeypatch.setattr(services, "commit_rows", crash_on_second_batch)
    before = db_counts()
    job, result = run_import(tree.branch, xlsx([member_row(f"戊{i}") for i in range(5)]))
    assert result is None and calls[:1] == [2]
    assert job.status == ImportStatus.FAILED and job.retryable and job.file
    assert "nothing was imported" in job.error_message and "RuntimeError" not in job.error_message
    assert db_counts() == before
    assert not job.failure_file

    monkeypatch.setattr(services, "commit_rows", real_commit)
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.retry_job(actor=None, job=job)
    retried.refresh_from_db()
    assert retried.status == ImportStatus.SUCCEEDED and retried.rows_imported == 5 and retried.attempts == 2


def test_retry_button_reruns_a_failed_job_audited_as_the_admin_who_retried(
        tree, client, monkeypatch, django_capture_on_commit_callbacks):
    from audit.models import AuditEntry

    # Uploaded by the branch admin, retried by the admin who replaced them.
    other_admin = tree.branch2_admin
    monkeypatch.setattr(services, "commit_rows", lambda rows, **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    job, _ = run_import(tree.branch, xlsx([member_row("己一")]), actor=Actor(person=tree.branch_admin,
                                                                              org=tree.branch))
    OrgAdmin.objects.filter(org=tree.branch).update(person=other_admin)
    login_as(client, other_admin, tree.branch)
    assert "data-testid=\"retry\"" in client.get(f"/imports/{job.pk}/").content.decode()
    monkeypatch.undo()
    seen = []
    real_run = services.run_job
    monkeypatch.setattr(services, "run_job", lambda pk, **kw: seen.append(pk)
                        or real_run(pk, **kw))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/imports/{job.pk}/retry/")
        assert seen == []  # not inside the retry's transaction: after it commits
    assert response.status_code == 302 and len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.rows_imported == 1
    assert job.retried_by == other_admin
    retry = AuditEntry.objects.get(action="import.retry", target_id=str(job.pk))
    finished = AuditEntry.objects.get(action="import.finished", target_id=str(job.pk))
    assert retry.actor == other_admin and finished.actor == other_admin


def test_uploads_of_failed_jobs_are_deleted_after_a_week(tree, monkeypatch):
    from imports.tasks import purge_old_uploads

    monkeypatch.setattr(services, "commit_rows", lambda rows, **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    job, _ = run_import(tree.branch, xlsx([member_row("庚二")]))
    path = Path(job.file.path)
    assert job.retryable and path.exists()
    assert purge_old_uploads() == 0  # still within the week
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timezone.timedelta(days=8))
    assert purge_old_uploads() == 1
    job.refresh_from_db()
    assert not job.file and not job.retryable and not path.exists()


def test_a_finished_job_cannot_be_retried(tree):
    job, _ = run_import(tree.branch, xlsx([member_row("庚一")]))
    with pytest.raises(services.ImportRefused):
        services.retry_job(actor=None, job=job)


def _left_running(tree, name: str) -> ImportJob:
    """What a killed worker leaves: status running, its lock released by the system, nothing committed."""
    job = services.create_job(actor=None, org=tree.branch, upload=upload(xlsx([member_row(name)])))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, attempts=1,
                                               started_at=timezone.now() - timezone.timedelta(hours=1))
    job.refresh_from_db()
    return job


def test_a_job_whose_worker_died_is_marked_failed_and_retryable_by_the_periodic_task(
        tree, settings, django_capture_on_commit_callbacks):
    job = _left_running(tree, "辛一")
    assert services.mark_interrupted_jobs() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.retryable and "interrupted" in job.error_message
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_job(actor=None, job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED


def test_the_job_page_shows_an_interrupted_job_but_a_get_changes_nothing(tree, client):
    job = _left_running(tree, "辛三")
    login_as(client, tree.branch_admin, tree.branch)
    body = client.get(f"/imports/{job.pk}/").content.decode()
    assert "interrupted" in body and 'data-testid="retry"' in body
    progress = client.get(f"/imports/{job.pk}/progress/")
    assert progress["HX-Refresh"] == "true"
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING  # only the beat task or the retry (a POST) records it


def test_retrying_an_interrupted_job_from_its_page_runs_it(tree, client, django_capture_on_commit_callbacks):
    job = _left_running(tree, "辛四")
    login_as(client, tree.branch_admin, tree.branch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/retry/")
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.rows_imported == 1 and job.attempts == 2


def test_a_running_job_whose_worker_is_alive_is_left_alone(tree):
    job = services.create_job(actor=None, org=tree.branch, upload=upload(xlsx([member_row("辛二")])))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=timezone.now())
    job.refresh_from_db()
    with live_worker(job):
        assert not selectors.is_stale(job)
        assert services.mark_interrupted_jobs() == 0
        assert services.run_job(job.pk) is None  # another worker holds it
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING


def test_large_files_run_as_a_background_task(tree, client, settings, django_capture_on_commit_callbacks,
                                              monkeypatch):
    from zhtj.celery import app

    # The embedded default runs tasks in-process (with REDIS_URL set, a real worker is tested elsewhere).
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.ZHTJ_IMPORT_BACKGROUND_ROWS = 2
    login_as(client, tree.branch_admin, tree.branch)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/orgs/{tree.branch.pk}/import/",
                               {"file": upload(xlsx([member_row(f"壬{i}") for i in range(3)]))})
    assert len(callbacks) == 1  # queued once the upload's transaction committed
    job = ImportJob.objects.get()
    assert job.background and job.status == ImportStatus.SUCCEEDED and job.rows_imported == 3
    assert response["Location"] == f"/imports/{job.pk}/"


def test_large_uploads_are_parsed_by_the_job_and_sheet_errors_shown_on_its_page(
        tree, client, settings, monkeypatch, django_capture_on_commit_callbacks):
    from zhtj.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.ZHTJ_IMPORT_PREFLIGHT_BYTES = 100  # every test file counts as large
    login_as(client, tree.branch_admin, tree.branch)
    rows = [member_row("大一")]
    headers = [h for h in rows[0] if h != "民族"]
    before = db_counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(xlsx(rows, headers=headers))})
    job = ImportJob.objects.get()
    assert job.background and response["Location"] == f"/imports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "has no column “民族”" in page
    assert job.status == ImportStatus.FAILED and not job.retryable and db_counts() == before
    # The container checks still run at upload time.
    response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(b"a,b\n" * 100, "x.xlsx")})
    assert "plain text (for example CSV)" in response.content.decode()


def test_progress_fragment_polls_until_done_then_refreshes(tree, client):
    job = services.create_job(actor=None, org=tree.branch, upload=upload(xlsx([member_row("癸一")])))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=timezone.now())
    job.refresh_from_db()
    login_as(client, tree.branch_admin, tree.branch)
    with live_worker(job):
        services._report(job, read=1200, validated=800, imported=0)
        fragment = client.get(f"/imports/{job.pk}/progress/")
        page = client.get(f"/imports/{job.pk}/").content.decode()
    body = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in body and ">1,200<" in body.replace("1200", "1,200") and ">800<" in body
    assert "HX-Refresh" not in fragment
    assert 'hx-trigger="every 1s"' in page
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, rows_read=1, rows_validated=1,
                                               rows_imported=1)
    done = client.get(f"/imports/{job.pk}/progress/")
    assert done["HX-Refresh"] == "true" and "every 1s" not in done.content.decode()


# -- the command ------------------------------------------------------------------------------------------------

def test_command_prints_the_sentence_and_writes_the_report(tree, tmp_path, capsys):
    path = write(tmp_path, xlsx(_rows_with_three_bad()))
    report = tmp_path / "report.xlsx"
    call_command("import_members", str(path), "--org", "B0001", "--report", str(report))
    out = capsys.readouterr().out
    assert "Imported 2 member(s), 3 member(s) failed to import" in out
    assert read_xlsx(report.read_bytes()).active.max_row == 4
    job = ImportJob.objects.get()
    assert job.created_by is None and job.status == ImportStatus.SUCCEEDED


def test_command_json_output(tree, tmp_path, capsys):
    path = write(tmp_path, xlsx(_rows_with_three_bad()))
    call_command("import_members", str(path), "--org", "B0001", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["imported"] == 2 and data["failed"] == 3
    assert [f["row"] for f in data["failures"]] == [3, 5, 6]
    assert all(isinstance(f["reason"], str) and f["reason"] for f in data["failures"])


def test_command_imports_cadres_into_a_committee(tree, tmp_path, capsys):
    from .import_helpers import CADRE_HEADERS, cadre_row

    path = write(tmp_path, xlsx([cadre_row("子一")], headers=CADRE_HEADERS))
    call_command("import_members", str(path), "--org", "W0001")
    assert "Imported 1 cadre(s), 0 cadre(s) failed to import" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--org", "NOPE"], "No organization has the code NOPE"),
    (["--org", "B0001"], "plain text"),
])
def test_command_fails_with_a_clear_message(tree, tmp_path, args, message):
    path = write(tmp_path, b"a,b\n1,2\n", "bad.xlsx")
    before = db_counts()
    with pytest.raises(CommandError, match=message):
        call_command("import_members", str(path), *args)
    assert db_counts() == before


def test_command_missing_file(tree, tmp_path):
    with pytest.raises(CommandError, match="There is no file at"):
        call_command("import_members", str(tmp_path / "nope.xlsx"), "--org", "B0001")


def test_command_exit_codes(tree, tmp_path, capsys, monkeypatch):
    """run_from_argv is what manage.py calls: a read file exits 0 (even with failed rows), a bad one exits 1."""
    from django.db import connections

    from imports.management.commands.import_members import Command

    monkeypatch.setattr(connections, "close_all", lambda: None)  # it would end this test's transaction

    good = write(tmp_path, xlsx([member_row("丑一"), member_row("丑二", 手机号码="1")]))
    Command().run_from_argv(["manage.py", "import_members", str(good), "--org", "B0001"])  # no SystemExit
    assert "Imported 1 member(s), 1 member(s) failed to import" in capsys.readouterr().out

    bad = write(tmp_path, b"", "empty.xlsx")
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "import_members", str(bad), "--org", "B0001"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "The file is empty." in err and "Traceback" not in err
