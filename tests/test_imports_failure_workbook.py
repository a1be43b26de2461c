"""The failure workbook as Excel and openpyxl read it back: text cells, styles, comments and layout."""

import datetime as dt
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
from django.utils import translation

from imports.failures import FailureWorkbook, cell_as_text, sheet_name_for
from imports.validation import Row

HEADERS = ["姓名", "身份证号码", "入团年月", "手机号码", "职业"]
POSITIONS = {"name": 0, "id_number": 1, "joined_on": 2, "phone": 3, "occupation": 4}
REASON_COLUMN = len(HEADERS) + 1


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _write(tmp_path, rows, *, sheet_name="团员", headers=HEADERS, positions=POSITIONS):
    book = FailureWorkbook(tmp_path / "failures.xlsx", sheet_name=sheet_name, header_cells=headers,
                           positions=positions)
    for row in rows:
        book.add(row)
    return book, book.save()


def _rows():
    return [
        Row(number=2, cells=["张三", "=1+2", dt.date(2015, 5, 1), "1380013800", "学生"],
            errors={"phone": "1380013800 is not an 11-digit mainland mobile number."}),
        Row(number=3, cells=["李四", None, dt.datetime(2019, 7, 3, 8, 30), 13800138000.0, "@x"],
            errors={"name": "Name <required> & \"checked\".", "joined_on": "Not a month."}),
        Row(number=4, cells=["王\x01五\x1f", "+8613800138000", "2020-01", True, "-1"],
            errors={"": "The row is a duplicate."}),
    ]


@pytest.fixture
def sheet(tmp_path):
    _book, path = _write(tmp_path, _rows())
    return openpyxl.load_workbook(path).active


def test_header_row_and_reason_header(sheet):
    assert [c.value for c in sheet[1]] == [*HEADERS, "Failure reason"]
    for cell in sheet[1]:
        assert cell.font.b and cell.fill.fgColor.rgb.endswith("D9E1F2") and cell.fill.fill_type == "solid"
        assert cell.data_type == "s" and cell.number_format == "@"


def test_values_are_text_and_dates_written_as_cell_as_text_does(sheet):
    assert [c.value for c in sheet[2]][:5] == ["张三", "=1+2", "2015-05", "1380013800", "学生"]
    assert [c.value for c in sheet[3]][:5] == ["李四", None, "2019-07", "13800138000", "@x"]
    assert [c.value for c in sheet[4]][:5] == ["王五", "+8613800138000", "2020-01", "TRUE", "-1"]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.number_format == "@"
            if cell.value is not None:
                assert cell.data_type == "s" and isinstance(cell.value, str)
    assert cell_as_text(dt.date(2015, 5, 1), year_month=True) == "2015-05"
    assert cell_as_text(dt.datetime(2015, 5, 1, 9), year_month=False) == "2015-05-01"


def test_formula_looking_values_stay_strings(sheet):
    assert sheet["B2"].value == "=1+2" and sheet["B2"].data_type == "s"
    assert sheet["E3"].value == "@x" and sheet["B4"].value == "+8613800138000" and sheet["E4"].value == "-1"


def test_bad_cells_only_are_highlighted_and_commented(sheet):
    bad = {"D2": "1380013800 is not an 11-digit mainland mobile number.",
           "A3": 'Name <required> & "checked".', "C3": "Not a month."}
    for row in sheet.iter_rows(min_row=2, max_col=len(HEADERS)):
        for cell in row:
            if cell.coordinate in bad:
                assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith("FFC7CE")
                assert cell.font.color.rgb.endswith("9C0006")
                assert cell.comment.text == bad[cell.coordinate] and cell.comment.author == "zhtj"
            else:
                assert cell.fill.fill_type is None and cell.comment is None, cell.coordinate
                assert cell.font.color is None or cell.font.color.rgb != "FF9C0006"


def test_empty_bad_cell_is_highlighted_and_commented(tmp_path):
    _book, path = _write(tmp_path, [Row(number=2, cells=["", None], errors={"id_number": "Required."})])
    cell = openpyxl.load_workbook(path).active["B2"]
    assert cell.value is None and cell.fill.fgColor.rgb.endswith("FFC7CE") and cell.comment.text == "Required."


def test_reason_column(sheet):
    reasons = [sheet.cell(row=r, column=REASON_COLUMN) for r in (2, 3, 4)]
    assert reasons[0].value == "手机号码：1380013800 is not an 11-digit mainland mobile number."
    assert reasons[1].value == '姓名：Name <required> & "checked".；入团年月：Not a month.'
    assert reasons[2].value == "The row is a duplicate."
    for cell in reasons:
        assert cell.fill.fgColor.rgb.endswith("FFF2CC") and cell.alignment.wrap_text
        assert cell.alignment.vertical == "top" and cell.comment is None and cell.number_format == "@"


def test_layout_frozen_header_column_widths_and_column_formats(sheet):
    assert sheet.freeze_panes == "A2"
    assert sheet.title == "团员"
    # openpyxl reads a range of columns under its first letter.
    assert sheet.column_dimensions["A"].width == 16
    assert sheet.column_dimensions["A"].min == 1 and sheet.column_dimensions["A"].max == len(HEADERS)
    assert sheet.column_dimensions["F"].width == 40
    assert sheet.column_dimensions["A"].number_format == "@" and sheet.column_dimensions["F"].number_format == "@"


def test_illegal_characters_are_dropped_everywhere(tmp_path):
    row = Row(number=2, cells=["a\x00b\x0bc", "x\ud800y"], errors={"name": "bad\x07 name\uffff"})
    _book, path = _write(tmp_path, [row], headers=["he\x1ead", "id"])
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "head" and sheet["A2"].value == "abc" and sheet["B2"].value == "xy"
    assert sheet["A2"].comment.text == "bad name"
    assert cell_as_text("a\x00b\x0bc\td\ne") == "abc\td\ne"


def test_whitespace_and_markup_survive(tmp_path):
    row = Row(number=2, cells=["  lead", "a < b && c > d", "tail\n"], errors={"id_number": " spaced "})
    _book, path = _write(tmp_path, [row])
    sheet = openpyxl.load_workbook(path).active
    assert [sheet["A2"].value, sheet["B2"].value, sheet["C2"].value] == ["  lead", "a < b && c > d", "tail\n"]
    assert sheet["B2"].comment.text == " spaced "


def test_excel_escape_lookalikes_are_escaped(tmp_path):
    """Excel reads _xHHHH_ as a character; the underscore is escaped so the text shows as typed."""
    _book, path = _write(tmp_path, [Row(number=2, cells=["a_x0041_b"], errors={"name": "x"})])
    with zipfile.ZipFile(path) as z:
        assert "a_x005F_x0041_b" in z.read("xl/worksheets/sheet1.xml").decode()


def test_xml_parts_are_well_formed_and_complete(tmp_path):
    _book, path = _write(tmp_path, _rows())
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels",
                "xl/comments/comment1.xml", "xl/drawings/commentsDrawing1.vml"} <= names
        for name in names:
            ElementTree.fromstring(z.read(name))
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in z.infolist())
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert '<legacyDrawing r:id="anysvml"/>' in sheet and 'ref="A1:F4"' in sheet
        vml = ElementTree.fromstring(z.read("xl/drawings/commentsDrawing1.vml"))
        shapes = vml.findall("{urn:schemas-microsoft-com:vml}shape")
        assert len(shapes) == 3 and len({s.get("id") for s in shapes}) == 3


def test_many_comments_get_enough_vml_id_blocks(tmp_path):
    rows = [Row(number=i, cells=["x"], errors={"name": "bad"}) for i in range(2, 2100)]
    _book, path = _write(tmp_path, rows)
    with zipfile.ZipFile(path) as z:
        vml = ElementTree.fromstring(z.read("xl/drawings/commentsDrawing1.vml"))
    idmap = vml.find("{urn:schemas-microsoft-com:office:office}shapelayout/"
                     "{urn:schemas-microsoft-com:office:office}idmap")
    assert idmap.get("data") == "1,2,3"
    ids = [int(s.get("id").removeprefix("_x0000_s")) for s in vml.findall("{urn:schemas-microsoft-com:vml}shape")]
    assert ids == list(range(1025, 1025 + len(rows)))


def test_row_without_cell_errors_has_no_comments_part(tmp_path):
    _book, path = _write(tmp_path, [Row(number=2, cells=["x"], errors={"": "Row problem."})])
    with zipfile.ZipFile(path) as z:
        assert "xl/comments/comment1.xml" not in z.namelist()
        assert "legacyDrawing" not in z.read("xl/worksheets/sheet1.xml").decode()
    assert openpyxl.load_workbook(path).active["F2"].value == "Row problem."


def test_no_file_when_no_row_failed(tmp_path):
    book, path = _write(tmp_path, [])
    assert path is None and book.count == 0
    assert not (tmp_path / "failures.xlsx").exists()


def test_discard_leaves_no_file(tmp_path):
    book = FailureWorkbook(tmp_path / "failures.xlsx", sheet_name="x", header_cells=HEADERS, positions=POSITIONS)
    book.add(_rows()[0])
    book.discard()
    assert book.count == 1
    assert list(tmp_path.iterdir()) == []


def test_sheet_name_is_made_valid():
    assert sheet_name_for("a[b]c:d*e?f/g\\h") == "a_b_c_d_e_f_g_h"
    assert sheet_name_for("x" * 40) == "x" * 31
    assert sheet_name_for("") == sheet_name_for(None) == sheet_name_for("'") == "Sheet1"
    assert sheet_name_for("'团员'") == "团员"


def test_sheet_name_with_markup_round_trips(tmp_path):
    _book, path = _write(tmp_path, _rows()[:1], sheet_name='A&B <"c">')
    assert openpyxl.load_workbook(path).active.title == 'A&B <"c">'


def test_header_wider_than_positions_and_short_rows(tmp_path):
    headers = ["a", "b", "c", None]
    _book, path = _write(tmp_path, [Row(number=2, cells=["1"], errors={"name": "x"})], headers=headers,
                         positions={"name": 0})
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["a", "b", "c", None, "Failure reason"]
    assert [c.value for c in sheet[2]] == ["1", None, None, None, "姓名：x"]
    assert sheet.column_dimensions["E"].width == 40
