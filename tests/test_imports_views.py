"""Import pages: who may use them (a matrix over every view), the template's contents, the history page."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from members import idnumber

from .conftest import login_as
from .import_helpers import db_counts, media, member_row, run_import, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


@pytest.fixture
def job(tree):
    job, _ = run_import(tree.branch, xlsx([member_row("甲"), member_row("乙", 手机号码="1")]))
    return job


def _org_urls(tree) -> list[tuple[str, str]]:
    pk = tree.branch.pk
    return [("get", f"/orgs/{pk}/import/"), ("get", f"/orgs/{pk}/import/template.xlsx"),
            ("post", f"/orgs/{pk}/import/")]


def _job_urls(job) -> list[tuple[str, str]]:
    return [("get", f"/imports/{job.pk}/"), ("get", f"/imports/{job.pk}/progress/"),
            ("get", f"/imports/{job.pk}/failures.xlsx"), ("post", f"/imports/{job.pk}/retry/")]


def _call(client, method, url):
    if method == "post" and url.endswith("/import/"):
        return client.post(url, {"file": upload(xlsx([member_row("丙")]))})
    return getattr(client, method)(url)


def test_anonymous_is_sent_to_login(tree, job, client):
    before = db_counts()
    for method, url in _org_urls(tree) + _job_urls(job):
        response = _call(client, method, url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert db_counts() == before and ImportJob.objects.count() == 1


@pytest.mark.parametrize("who, expected", [
    ("member", 404),  # a member without an admin role acts for no org
    ("sibling", 404),  # another branch in the same tree
    ("branch2", 404),  # a sibling branch under the same general branch
    ("outsider", 404),  # another tree
    ("wc", 403),  # above the direct superior: sees the branch but does not import into it
    ("root", 403),
])
def test_outsiders_are_refused_and_change_nothing(tree, job, client, who, expected):
    person, org = {
        "member": (tree.member.person, None), "sibling": (tree.sibling_admin, tree.sibling),
        "branch2": (tree.branch2_admin, tree.branch2), "outsider": (tree.outsider, tree.other_root),
        "wc": (tree.wc_admin, tree.wc), "root": (tree.root_admin, tree.root),
    }[who]
    person.password_set_at = person.password_set_at or timezone.now()  # past the activation step
    person.save(update_fields=["password_set_at"])
    login_as(client, person, org)
    before = db_counts()
    for method, url in _org_urls(tree) + _job_urls(job):
        assert _call(client, method, url).status_code == expected, url
    assert db_counts() == before and ImportJob.objects.count() == 1


def test_descendant_admin_cannot_reach_a_higher_orgs_import(tree, client):
    login_as(client, tree.branch_admin, tree.branch)
    for url in (f"/orgs/{tree.gb.pk}/import/", f"/orgs/{tree.wc.pk}/import/template.xlsx"):
        assert client.get(url).status_code == 404


def test_org_admin_reaches_every_view(tree, job, client):
    login_as(client, tree.branch_admin, tree.branch)
    for method, url in _org_urls(tree) + _job_urls(job):
        assert _call(client, method, url).status_code in (200, 302), url


def test_service_refuses_an_actor_who_is_neither_the_orgs_admin_nor_its_direct_superior(tree):
    from orgs.permissions import Actor

    with pytest.raises(services.ImportRefused):
        services.create_job(actor=Actor(person=tree.wc_admin, org=tree.wc), org=tree.branch,
                            upload=upload(xlsx([member_row()])))
    assert ImportJob.objects.count() == 0


def test_branch_admin_gets_the_member_template(tree, client):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(f"/orgs/{tree.branch.pk}/import/template.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "填写说明"
    sheet = book["团员信息"]
    headers = [c.value for c in sheet[2]]
    assert headers == ["姓名", "身份证号码", "民族", "政治面貌", "入团年月", "发展团员编号", "手机号码", "电子邮箱",
                       "学历", "职业", "团内现任职务", "任现职年月", "团干部性质"]
    assert all(c.value for c in sheet[3])  # the help row
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    for text_column in ("身份证号码", "手机号码", "发展团员编号"):
        assert sheet.column_dimensions[letter[text_column]].number_format == "@"
        assert sheet[f"{letter[text_column]}4"].number_format == "@"
    validated = {str(dv.sqref).split(":")[0][:-1]: dv for dv in sheet.data_validations.dataValidation}
    for listed in ("民族", "政治面貌", "学历", "团内现任职务", "团干部性质"):
        assert validated[letter[listed]].type == "list"
    lists = book["选项"]
    assert lists.sheet_state == "hidden"
    ethnicities = [c.value for c in lists["A"]][1:]
    assert len(ethnicities) == 56 and ethnicities[0] == "汉族"


def test_higher_org_admin_gets_the_cadre_template(tree, client):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.get(f"/orgs/{tree.wc.pk}/import/template.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in book["团干部信息"][2]]
    assert headers == ["姓名", "身份证号码", "手机号码", "电子邮箱", "团内现任职务", "任现职年月", "团干部性质"]


def test_filled_template_imports(tree, client):
    login_as(client, tree.branch_admin, tree.branch)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/orgs/{tree.branch.pk}/import/template.xlsx").content))
    sheet = book["团员信息"]
    headers = [c.value for c in sheet[2]]
    for r, name in enumerate(["模板一", "模板二"], start=4):
        row = member_row(name, idnumber.make("110101", dt.date(2004, 1, 1), r))
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=r, column=col, value=row.get(header))
    out = io.BytesIO()
    book.save(out)
    response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(out.getvalue())})
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"
    assert (job.rows_imported, job.rows_failed) == (2, 0), job.failures


def test_history_lists_jobs_with_bounded_queries(tree, client, django_assert_max_num_queries):
    for i in range(6):
        run_import(tree.branch, xlsx([member_row(f"史{i}"), member_row(f"史{i}b", 手机号码="1")]),
                   actor=None)
    login_as(client, tree.branch_admin, tree.branch)
    with django_assert_max_num_queries(12):
        response = client.get(f"/orgs/{tree.branch.pk}/import/")
    page = response.content.decode()
    assert page.count("failures.xlsx") == 6
    assert 'data-testid="import-history"' in page


def test_history_of_another_org_is_not_shown(tree, client):
    run_import(tree.branch2, xlsx([member_row("外一")]), "secret-b2.xlsx")
    login_as(client, tree.branch_admin, tree.branch)
    assert "secret-b2.xlsx" not in client.get(f"/orgs/{tree.branch.pk}/import/").content.decode()
