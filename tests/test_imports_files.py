"""Bad files get one clear sentence and change nothing; messy but legitimate workbooks are read correctly."""

import io
import zipfile

import openpyxl
import pytest

from imports.models import ImportStatus
from members.models import Member

from .import_helpers import db_counts, media, member_row, run_import, with_dimension, xls, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")


def _assert_refused(tree, data: bytes, expected: str, name: str = "members.xlsx"):
    before = db_counts()
    job, result = run_import(tree.branch, data, name)
    assert result is None
    assert job.status == ImportStatus.FAILED
    assert expected in job.error_message
    assert "Traceback" not in job.error_message and "Error" not in job.error_message
    assert not job.retryable
    assert not job.file, "the upload of a refused file is not kept"
    # The job row itself is the only new row: no person, member, cadre or audit entry.
    assert db_counts() == before
    return job


def test_empty_file_is_refused(tree):
    _assert_refused(tree, b"", "The file is empty.")


def test_renamed_csv_is_refused_with_advice_to_save_as_xlsx(tree):
    csv = "姓名,身份证号码\n张三,110101200001011234\n".encode()
    _assert_refused(tree, csv, "plain text (for example CSV)")


def test_image_is_refused(tree):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    _assert_refused(tree, png, "image or a PDF", name="photo.xlsx")


def test_word_document_is_refused(tree):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    _assert_refused(tree, out.getvalue(), "Word document")


def test_truncated_xlsx_is_refused(tree):
    data = xlsx([member_row()])
    _assert_refused(tree, data[: len(data) // 2], "damaged or incomplete")


def test_corrupt_xls_is_refused(tree):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    _assert_refused(tree, data, "damaged", name="members.xls")


def test_password_protected_workbook_is_refused(tree):
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx([member_row()]))).encrypt("secret", encrypted)
    _assert_refused(tree, encrypted.getvalue(), "protected with a password")


def _rewrite_part(data: bytes, part: str, transform) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, transform(content) if info.filename == part else content)
    return out.getvalue()


def test_external_entity_is_refused(tree):
    def inject(xml: bytes) -> bytes:
        doctype = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        return b'<?xml version="1.0"?>' + doctype + xml.replace(b"<v>", b"<v>&xxe;", 1)

    data = _rewrite_part(xlsx([member_row()]), "xl/worksheets/sheet1.xml", inject)
    _assert_refused(tree, data, "refused for safety")


def test_entity_expansion_bomb_is_refused(tree):
    def inject(xml: bytes) -> bytes:
        lol = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        if xml.startswith(b"<?xml"):
            head, rest = xml.split(b"?>", 1)
            return head + b"?>" + lol + rest
        return lol + xml

    data = _rewrite_part(xlsx([member_row()]), "xl/workbook.xml", inject)
    _assert_refused(tree, data, "refused for safety")


def test_zip_bomb_is_refused_before_parsing(tree, settings):
    settings.ZHTJ_IMPORT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    data = _rewrite_part(xlsx([member_row()]), "xl/worksheets/sheet1.xml",
                         lambda xml: xml + b" " * (8 * 1024 * 1024))
    assert len(data) < 200 * 1024  # small on disk, huge once unpacked
    _assert_refused(tree, data, "unpacks to far more data")


def test_sheet_without_data_rows_is_refused(tree):
    _assert_refused(tree, xlsx([], headers=list(member_row().keys())), "no data rows")


def test_sheet_over_the_row_limit_is_refused(tree, settings):
    settings.ZHTJ_IMPORT_MAX_ROWS = 3
    _assert_refused(tree, xlsx([member_row(f"人{i}") for i in range(5)]), "at most 3 rows")


def test_file_over_the_size_limit_is_refused(tree, settings):
    settings.ZHTJ_IMPORT_MAX_BYTES = 1024
    _assert_refused(tree, xlsx([member_row(f"人{i}") for i in range(50)]), "at most")


def test_missing_required_column_names_it(tree):
    rows = [member_row()]
    headers = [h for h in rows[0] if h != "政治面貌"]
    job = _assert_refused(tree, xlsx(rows, headers=headers), "has no column “政治面貌”")
    assert "团员信息" in job.error_message


def test_workbook_without_the_header_row_is_refused(tree):
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.append([1, 2])
    out = io.BytesIO()
    book.save(out)
    _assert_refused(tree, out.getvalue(), "No sheet in this workbook has the header row")


def test_refused_upload_shows_the_sentence_on_the_form(tree, client):
    from .conftest import login_as

    login_as(client, tree.branch_admin, tree.branch)
    before = db_counts()
    from .import_helpers import upload

    response = client.post(f"/orgs/{tree.branch.pk}/import/", {"file": upload(b"not,a,workbook\n", "x.xlsx")})
    assert response.status_code == 200
    assert "plain text (for example CSV)" in response.content.decode()
    assert db_counts() == before


# -- messy but legitimate workbooks ------------------------------------------------------------------------

def test_instructions_sheet_merged_title_blank_rows_hidden_and_extra_columns(tree):
    rows = [member_row("赵一"), member_row("赵二")]
    headers = ["序号", *reversed(list(rows[0])), "备注"]
    book = openpyxl.Workbook()
    guide = book.active
    guide.title = "填写说明"
    guide.append(["请按模板填写：姓名、身份证号码等"])
    sheet = book.create_sheet("数据")
    sheet.append(["2024年团员信息采集表"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append([])
    sheet.append(headers)
    sheet.append([])  # blank row
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *[row[h] for h in reversed(list(row))], "已核对"])
        sheet.append([None] * len(headers))
    for r in range(sheet.max_row + 1, sheet.max_row + 20):  # formatted but empty
        sheet.cell(row=r, column=2).number_format = "@"
        sheet.cell(row=r, column=3).fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")
    sheet.column_dimensions["B"].hidden = True  # a hidden data column is still read
    out = io.BytesIO()
    book.save(out)
    job, result = run_import(tree.branch, out.getvalue())
    assert job.status == ImportStatus.SUCCEEDED, job.error_message
    assert (result.imported, result.failed) == (2, 0)
    assert set(Member.objects.filter(branch=tree.branch).values_list("person__name", flat=True)) >= {"赵一", "赵二"}


def test_row_numbers_are_the_excel_row_numbers(tree):
    rows = [member_row("钱一"), member_row("钱二", 手机号码="12")]
    job, result = run_import(tree.branch, xlsx(rows, title_rows=[["标题"], []]))
    assert result.failures == [{"row": 5, "reason": result.failures[0]["reason"]}]


def test_template_help_row_left_in_place_is_skipped(tree, client):
    from imports.template import build_template

    book = openpyxl.load_workbook(io.BytesIO(build_template(tree.branch, "member")))
    sheet = book["团员信息"]
    headers = [c.value for c in sheet[2]]
    row = member_row("孙一")
    for col, header in enumerate(headers, start=1):
        sheet.cell(row=4, column=col, value=row.get(header))
    out = io.BytesIO()
    book.save(out)
    job, result = run_import(tree.branch, out.getvalue())
    assert (result.imported, result.failed) == (1, 0), result.failures


def test_legacy_xls_is_read(tree):
    import datetime as dt

    rows = [member_row("周一", 入团年月=dt.date(2019, 5, 1)), member_row("周二"), member_row("周三", 手机号码="1")]
    job, result = run_import(tree.branch, xls(rows), "members.xls")
    assert job.status == ImportStatus.SUCCEEDED
    assert (result.imported, result.failed) == (2, 1)
    assert Member.objects.get(person__name="周一").joined_on == dt.date(2019, 5, 1)


def test_duplicate_header_column_is_a_file_error(tree):
    rows = [member_row()]
    headers = list(rows[0]) + ["身份证号码"]
    _assert_refused(tree, xlsx(rows, headers=headers), "appears twice")


@pytest.mark.parametrize(("ref", "said"), [(None, "has more than 3 rows"), ("A1:J2", "has more than 3 rows"),
                                           ("A1:J6", "has 5 rows")],
                         ids=["no declared extent", "a false extent", "the true extent: refused before reading"])
def test_row_limit_holds_whatever_extent_the_sheet_declares(tree, settings, ref, said):
    settings.ZHTJ_IMPORT_MAX_ROWS = 3
    data = with_dimension(xlsx([member_row(f"限{i}") for i in range(5)]), ref)
    before = db_counts()
    job, result = run_import(tree.branch, data)
    assert result is None and job.status == "failed"
    assert said in job.error_message and "at most 3 rows" in job.error_message
    assert db_counts() == before


def test_a_sheet_without_declared_extent_imports_every_row(tree):
    job, result = run_import(tree.branch, with_dimension(xlsx([member_row(f"量{i}") for i in range(4)]), None))
    assert (result.imported, result.failed) == (4, 0)
