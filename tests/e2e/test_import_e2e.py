"""Issue 5 in a real browser: a branch admin downloads the member template, fills it with five people of whom
three are wrong, uploads it, reads the result sentence, downloads the failure workbook and finds the reasons."""

import contextlib
import datetime as dt

import openpyxl
import pytest
from django.utils import translation

from members import idnumber
from members.models import Member
from tests.e2e.helpers import log_in

ADMIN_PASSWORD = "Str0ng-pass!"  # tests.factories.make_person's default


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def _person(name: str, seq: int, **over) -> dict:
    row = {"姓名": name, "身份证号码": idnumber.make("110101", dt.date(2004, 3, 15), seq), "民族": "汉族",
           "政治面貌": "共青团员", "入团年月": "2019-05", "发展团员编号": f"2019{seq:08d}", "手机号码": "13800138000",
           "学历": "本科", "职业": "学生"}
    row.update(over)
    return row


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_template_upload_result_sentence_and_failure_workbook(
    browser, live_server, e2e_settings, captcha_test_mode, org_types, tree, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    try:
        log_in(page, base, tree.branch_admin.id_number, ADMIN_PASSWORD)
        page.get_by_test_id("nav-import").click()
        page.wait_for_url(f"{base}/orgs/{tree.branch.pk}/import/")

        with page.expect_download() as info:
            page.get_by_test_id("download-template").click()
        template = tmp_path / "template.xlsx"
        info.value.save_as(template)
        book = openpyxl.load_workbook(template)
        sheet = book["团员信息"]
        headers = [c.value for c in sheet[2]]
        wrong_check = idnumber.make("110101", dt.date(2004, 3, 15), 903)
        wrong_check = wrong_check[:17] + ("1" if wrong_check[17] != "1" else "2")
        people = [
            _person("李一", 901),
            _person("李二", 902, 手机号码="1380013800"),
            _person("李三", 903, 身份证号码=wrong_check),
            _person("李四", 904, 民族="火星族"),
            _person("李五", 905),
        ]
        for r, person in enumerate(people, start=4):  # below the title, header and help rows
            for c, header in enumerate(headers, start=1):
                sheet.cell(row=r, column=c, value=person.get(header))
        filled = tmp_path / "一班团员.xlsx"
        book.save(filled)

        page.get_by_test_id("upload-file").set_input_files(str(filled))
        page.get_by_test_id("upload-submit").click()
        sentence = page.get_by_test_id("result-sentence")
        sentence.wait_for()
        expected = zh("Imported %(imported)d member(s), %(failed)d member(s) failed to import") % {
            "imported": 2, "failed": 3}
        assert sentence.inner_text().strip() == expected
        assert page.get_by_test_id("failures").locator("tbody tr").count() == 3

        with page.expect_download() as info:
            page.get_by_test_id("download-failures").click()
        failures = tmp_path / "failures.xlsx"
        info.value.save_as(failures)
        result = openpyxl.load_workbook(failures).active
        header = [c.value for c in result[1]]
        assert header[:len(headers)] == headers
        reasons = {result.cell(row=r, column=1).value: result.cell(row=r, column=len(header)).value
                   for r in range(2, result.max_row + 1)}
        assert set(reasons) == {"李二", "李三", "李四"}
        assert reasons["李二"].startswith("手机号码")
        assert reasons["李三"].startswith("身份证号码")
        assert reasons["李四"].startswith("民族")
        phone_cell = result.cell(row=2, column=headers.index("手机号码") + 1)
        assert phone_cell.comment is not None
        assert set(Member.objects.filter(branch=tree.branch, person__name__startswith="李").values_list(
            "person__name", flat=True)) == {"李一", "李五"}
    finally:
        context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_progress_bar_updates_without_reload_and_shows_the_result(
    browser, live_server, e2e_settings, captcha_test_mode, org_types, tree, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from imports import services
    from imports.models import ImportJob, ImportStatus
    from tests.import_helpers import live_worker, member_row, xlsx

    settings.MEDIA_ROOT = tmp_path / "media"
    job = services.create_job(actor=None, org=tree.branch,
                              upload=SimpleUploadedFile("big.xlsx", xlsx([member_row("进一")])))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=timezone.now())
    job.refresh_from_db()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    worker = contextlib.ExitStack()  # closed when the "worker" finishes, below
    worker.enter_context(live_worker(job))
    services._report(job, read=3000, validated=1000, imported=0)
    try:
        log_in(page, live_server.url, tree.branch_admin.id_number, ADMIN_PASSWORD)
        page.goto(f"{live_server.url}/imports/{job.pk}/")
        assert page.get_by_test_id("rows-validated").inner_text().replace(",", "") == "1000"
        page.evaluate("window.notReloaded = true")
        services._report(job, read=3000, validated=2500, imported=0)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=rows-validated]').innerText.replace(',', '') === '2500'",
            timeout=10_000)
        assert page.evaluate("window.notReloaded") is True  # updated in place, not by a reload
        worker.close()
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, rows_read=3000,
                                                   rows_validated=3000, rows_imported=2990, rows_failed=10)
        page.get_by_test_id("result-sentence").wait_for(timeout=10_000)
        expected = zh("Imported %(imported)d member(s), %(failed)d member(s) failed to import") % {
            "imported": 2990, "failed": 10}
        assert page.get_by_test_id("result-sentence").inner_text().strip() == expected
    finally:
        worker.close()
        context.close()
