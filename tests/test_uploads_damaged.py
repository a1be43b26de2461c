"""Damaged, oversized and hidden-sheet workbooks uploaded through the pages: one clear sentence, never a 500, no
job left queued and no upload left on disk (member import), nothing created (org bulk creation)."""

import io
import struct
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from audit.models import AuditEntry
from imports.models import ImportJob, ImportStatus
from members.models import Member
from orgs.models import Org

from .conftest import login_as
from .import_helpers import db_counts, media, member_row, upload, xls, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def flip_in_member(data: bytes, member: str, offset: int = 0, bit: int = 1) -> bytes:
    """The zip with one bit of a member's compressed bytes flipped (the local header is left as it is, so the
    zip opens and the damage shows only when the member is inflated)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    mutated = bytearray(data)
    mutated[start + offset] ^= 1 << bit
    return bytes(mutated)


def files_in_media() -> list[str]:
    from django.conf import settings

    root = settings.MEDIA_ROOT  # the per-test folder of the media fixture
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_import(client, tree, data: bytes, name: str = "members.xlsx"):
    login_as(client, tree.branch_admin, tree.branch)
    return client.post(reverse("import_home", args=[tree.branch.pk]), {"file": upload(data, name)})


def assert_import_refused(client, tree, data: bytes, expected: str, name: str = "members.xlsx"):
    before = db_counts()
    response = post_import(client, tree, data, name)
    assert response.status_code == 200
    assert expected in " ".join(response.context["form"].errors["file"])
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and not job.retryable
    assert expected in job.error_message
    assert not job.file and files_in_media() == [], "the refused upload is deleted"
    assert db_counts() == before
    return job


def org_sheet(rows, *, headings=("简称", "类别", "全称")) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "组织"
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    return book


def saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post_orgs(client, tree, data: bytes, name: str = "orgs.xlsx"):
    login_as(client, tree.gb_admin, tree.gb)
    return client.post(reverse("org_bulk_create", args=[tree.gb.pk]), {"file": upload(data, name)})


def org_state():
    return list(Org.objects.order_by("pk").values_list("pk", "short_name", "lft", "rght")), AuditEntry.objects.count()


def assert_orgs_refused(client, tree, data: bytes, expected: str, name: str = "orgs.xlsx"):
    before = org_state()
    response = post_orgs(client, tree, data, name)
    assert response.status_code == 200
    assert expected in " ".join(response.context["form"].errors["file"])
    assert org_state() == before


# -- damaged compressed data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "[Content_Types].xml"])
@pytest.mark.parametrize("checked_now", [True, False], ids=["small file, parsed on upload",
                                                            "large file, container checked on upload"])
def test_xlsx_whose_deflate_stream_is_damaged_is_refused_as_damaged_and_deleted(client, tree, settings,
                                                                                 member, checked_now):
    # Flipping bit 1 of a deflate stream's first byte makes an invalid block type: zlib.error, which escaped the
    # container check as a 500 and left the job queued with its upload on disk.
    if not checked_now:
        settings.ZHTJ_IMPORT_PREFLIGHT_BYTES = 0
    data = flip_in_member(xlsx([member_row()]), member)
    assert_import_refused(client, tree, data, "damaged or incomplete")


def test_damage_deep_inside_a_sheet_found_by_the_background_job_refuses_it_and_deletes_the_upload(
        client, tree, settings, django_capture_on_commit_callbacks, monkeypatch):
    from zhtj.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # in-process even with REDIS_URL set
    settings.ZHTJ_IMPORT_PREFLIGHT_BYTES = 0  # only the container is checked on upload; the job reads the sheet
    data = xlsx([member_row(f"甲{i}") for i in range(400)])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    data = flip_in_member(data, "xl/worksheets/sheet1.xml", offset=info.compress_size - 40, bit=3)
    before = db_counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, tree, data)
    job = ImportJob.objects.get()
    assert job.background
    assert response.status_code == 302 and response["Location"] == reverse("import_job", args=[job.pk])
    assert job.status == ImportStatus.FAILED and not job.retryable
    assert "damaged or incomplete" in job.error_message
    assert not job.file and files_in_media() == []
    assert db_counts() == before
    page = client.get(reverse("import_job", args=[job.pk]))
    assert page.status_code == 200 and "damaged or incomplete" in page.content.decode()


def test_retrying_a_refused_damaged_upload_says_so_and_leaves_it_refused(client, tree):
    job = assert_import_refused(client, tree, flip_in_member(xlsx([member_row()]), "xl/workbook.xml"),
                                "damaged or incomplete")
    response = client.post(reverse("import_retry", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "cannot be run again" in " ".join(m.message for m in response.context["messages"])
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and not job.file and files_in_media() == []


def test_an_unforeseen_reader_failure_on_upload_is_the_damaged_sentence_not_a_500(client, tree, monkeypatch):
    from imports import reader

    def explode(*_args, **_kwargs):
        raise struct.error("a parser failed in a way nobody listed")

    monkeypatch.setattr(reader, "open_sheets", explode)
    assert_import_refused(client, tree, xlsx([member_row()]), "damaged or incomplete")


def test_org_sheet_whose_deflate_stream_is_damaged_is_refused_as_damaged(client, tree):
    data = flip_in_member(saved(org_sheet([("新支部", "团支部", "新支部")])), "xl/worksheets/sheet1.xml")
    assert_orgs_refused(client, tree, data, "damaged or incomplete")


# -- bounded reading --------------------------------------------------------------------------------------------

def test_org_sheet_with_a_cell_at_the_last_cell_of_the_grid_is_read_by_the_streaming_reader(client, tree):
    # python-calamine allocates the sheet's whole grid: for a cell at XFD1048576 it asked for 549,755,813,888
    # bytes and aborted the web worker. The streaming reader holds one row.
    book = org_sheet([("新支部", "团支部", "学院新支部")])
    book.active["XFD1048576"] = "远处的单元格"
    response = post_orgs(client, tree, saved(book))
    assert response.status_code == 302
    assert Org.objects.filter(parent=tree.gb, short_name="新支部").exists()


def test_org_bulk_creation_reads_xlsx_without_calamine(client, tree, monkeypatch):
    import python_calamine

    def refuse(*_args, **_kwargs):
        raise AssertionError("an .xlsx upload reached python-calamine")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", refuse)
    monkeypatch.setattr(python_calamine, "load_workbook", refuse)
    response = post_orgs(client, tree, saved(org_sheet([("新支部", "团支部", "学院新支部")])))
    assert response.status_code == 302 and Org.objects.filter(short_name="新支部").exists()


def test_org_sheet_with_more_rows_than_allowed_is_refused_before_the_rest_is_read(client, tree):
    from orgs.services import MAX_BULK_ROWS

    book = org_sheet([(f"支部{i}", "团支部", f"支部{i}") for i in range(MAX_BULK_ROWS + 1)])
    assert_orgs_refused(client, tree, saved(book), f"at most {MAX_BULK_ROWS} organizations")


def sparse_xls(cells) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for row, column, value in cells:
        sheet.write(row, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cell_moved(data: bytes, value: float, *, row: int, column: int) -> bytes:
    """The .xls with the NUMBER record holding `value` (one not stored as an RK number) moved to (row, column),
    past what Excel or xlwt write."""
    record = struct.pack("<HH", 0x0203, 14)
    start = data.find(record)
    while start >= 0 and struct.unpack_from("<d", data, start + 10)[0] != value:
        start = data.find(record, start + 1)
    assert start >= 0, "the NUMBER record is in the file"
    mutated = bytearray(data)
    struct.pack_into("<HH", mutated, start + 4, row, column)
    return bytes(mutated)


XLS_TOO_LARGE = "more than can be read safely"


def test_xls_whose_two_cells_span_the_whole_grid_is_refused_before_calamine_reads_it(client, tree):
    # Two cells at A1 and IV65536: calamine holds 16.7 million cells (1 GB) for them.
    data = sparse_xls([(0, 0, "姓名"), (65535, 255, "x")])
    job = assert_import_refused(client, tree, data, XLS_TOO_LARGE, name="members.xls")
    assert "65536 rows by 256 columns" in job.error_message
    assert_orgs_refused(client, tree, data, XLS_TOO_LARGE, name="orgs.xls")


def test_xls_with_a_damaged_cell_record_far_to_the_right_is_refused_before_calamine_reads_it(client, tree):
    # Column 65,535 is past the format's 256 columns; calamine would still make room for every column up to it.
    data = with_cell_moved(sparse_xls([(0, 0, "姓名"), (1, 1, 0.123456789)]), 0.123456789, row=200, column=65535)
    assert_import_refused(client, tree, data, XLS_TOO_LARGE, name="members.xls")
    assert_orgs_refused(client, tree, data, XLS_TOO_LARGE, name="orgs.xls")


def test_ordinary_xls_org_sheet_is_still_read(client, tree):
    data = sparse_xls([(0, 0, "简称"), (0, 1, "类别"), (0, 2, "全称"), (1, 0, "旧格式支部"), (1, 1, "团支部"),
                       (1, 2, "旧格式支部全称")])
    response = post_orgs(client, tree, data, name="orgs.xls")
    assert response.status_code == 302 and Org.objects.filter(short_name="旧格式支部").exists()


# -- hidden sheets ----------------------------------------------------------------------------------------------

def _member_book(sheets) -> bytes:
    """sheets: [(title, hidden, rows)] as an .xlsx with the member template's headers on each sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    headers = list(member_row().keys())
    for title, hidden, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append([row.get(h) for h in headers])
        if hidden:
            sheet.sheet_state = "hidden"
    return saved(book)


def test_hidden_first_sheet_is_not_imported_and_the_visible_one_is(client, tree):
    data = _member_book([("旧名单", True, [member_row("隐藏人")]), ("团员信息", False, [member_row("可见人")])])
    response = post_import(client, tree, data)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED and job.rows_imported == 1
    names = set(Member.objects.filter(branch=tree.branch).values_list("person__name", flat=True))
    assert "可见人" in names and "隐藏人" not in names


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_workbook_whose_only_data_sheet_is_hidden_is_refused_with_a_sentence_naming_it(client, tree, state):
    book = openpyxl.load_workbook(io.BytesIO(_member_book([("团员信息", False, [member_row("隐藏人")])])))
    book.create_sheet("说明").append(["请填写团员信息"])
    book["团员信息"].sheet_state = state
    assert_import_refused(client, tree, saved(book), "The sheet “团员信息” has the header row of the import"
                                                             " template but is hidden")


def test_xls_whose_only_data_sheet_is_hidden_is_refused(client, tree):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    hidden = book.add_sheet("团员信息")
    row = member_row()
    for column, (header, value) in enumerate(row.items()):
        hidden.write(0, column, header)
        hidden.write(1, column, value)
    hidden.visibility = 1
    book.add_sheet("说明").write(0, 0, "请填写团员信息")
    out = io.BytesIO()
    book.save(out)
    assert_import_refused(client, tree, out.getvalue(), "is hidden", name="members.xls")


def test_org_sheet_hidden_is_not_read_and_the_visible_one_is(client, tree):
    book = org_sheet([("隐藏支部", "团支部", "隐藏支部")])
    book.active.sheet_state = "hidden"
    visible = book.create_sheet("可见")
    visible.append(["简称", "类别", "全称"])
    visible.append(["可见支部", "团支部", "可见支部"])
    response = post_orgs(client, tree, saved(book))
    assert response.status_code == 302
    assert Org.objects.filter(short_name="可见支部").exists() and not Org.objects.filter(short_name="隐藏支部").exists()


def test_org_sheet_whose_only_sheet_with_headings_is_hidden_is_refused_with_a_sentence(client, tree):
    book = org_sheet([("隐藏支部", "团支部", "隐藏支部")])
    book.active.sheet_state = "hidden"
    book.create_sheet("说明").append(["请使用模板"])
    assert_orgs_refused(client, tree, saved(book),
                        "The sheet “组织” has the headings 简称, 类别 and 全称 but is hidden")
