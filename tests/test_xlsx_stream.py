"""The streaming .xlsx reader gives the same rows and values as python-calamine, and refuses damaged parts.

Same except in one respect, on purpose: calamine trims leading and trailing spaces of a <t> that has no
xml:space="preserve"; this reader keeps them, as XML and openpyxl do (test_leading_and_trailing_spaces_...).

Workbooks are built here: ordinary ones with openpyxl, the shapes openpyxl never writes (shared strings with
rich text and phonetic runs, x: prefixes, missing r attributes, t="d", custom formats) as hand-written parts.
"""

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from spreadsheets import xlsx_stream
from spreadsheets.xlsx_stream import XlsxBook, XlsxError, format_kind


@pytest.fixture(autouse=True, params=["in memory", "spilled to a file"])
def shared_strings_storage(request, monkeypatch):
    """Every test runs twice: shared strings kept in memory, and spilled to a temporary file (as a large table is),
    in small blocks so that slices span blocks and the block cache evicts."""
    if request.param == "spilled to a file":
        monkeypatch.setattr(xlsx_stream._SharedStrings, "SPILL_BYTES", 0)
        monkeypatch.setattr(xlsx_stream._SpilledText, "BLOCK_BITS", 4)
        monkeypatch.setattr(xlsx_stream._SpilledText, "CACHED_BLOCKS", 2)
    return request.param


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


# -- building workbooks -----------------------------------------------------------------------------------------

def build(path, sheets, *, shared=None, styles=None, date1904=False, prefix="", absolute_targets=False,
          shared_name="sharedStrings.xml", doctype_in=None):
    """An .xlsx from hand-written parts. sheets: [(name, sheetData inner XML or a whole worksheet document)].
    prefix "x:" writes every SpreadsheetML element with that prefix, as the .NET OpenXML SDK does."""
    p = prefix
    xmlns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    doctype = '<!DOCTYPE foo [<!ENTITY a "b">]>'
    parts = {}
    names = "".join(f'<{p}sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                    for i, (name, _) in enumerate(sheets))
    workbook_pr = f'<{p}workbookPr date1904="1"/>' if date1904 else ""
    parts["xl/workbook.xml"] = (f'{decl}<{p}workbook {xmlns} xmlns:r="{REL}">{workbook_pr}<{p}sheets>{names}'
                                f"</{p}sheets></{p}workbook>")
    folder = "/xl/" if absolute_targets else ""
    rels = [(f"rId{i + 1}", "worksheet", f"{folder}worksheets/sheet{i + 1}.xml") for i in range(len(sheets))]
    if shared is not None:
        rels.append(("rIdS", "sharedStrings", f"{folder}{shared_name}"))
        parts[f"xl/{shared_name}"] = f"{decl}<{p}sst {xmlns}>{shared}</{p}sst>"
    if styles is not None:
        rels.append(("rIdT", "styles", f"{folder}styles.xml"))
        parts["xl/styles.xml"] = f"{decl}<{p}styleSheet {xmlns}>{styles}</{p}styleSheet>"
    parts["xl/_rels/workbook.xml.rels"] = decl + f'<Relationships xmlns="{PKG_REL}">' + "".join(
        f'<Relationship Id="{rid}" Type="{REL}/{kind}" Target="{target}"/>' for rid, kind, target in rels
    ) + "</Relationships>"
    parts["_rels/.rels"] = (f'{decl}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    parts["[Content_Types].xml"] = (f'{decl}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                                    f'content-types"><Default Extension="xml" ContentType="application/xml"/>'
                                    f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                                    f'package.relationships+xml"/></Types>')
    for i, (_, xml) in enumerate(sheets):
        if "<sheetData" not in xml and f"<{p}sheetData" not in xml:
            xml = f"{decl}<{p}worksheet {xmlns}><{p}sheetData>{xml}</{p}sheetData></{p}worksheet>"
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = xml
    if doctype_in:
        body = parts[doctype_in]
        parts[doctype_in] = body.replace(decl, decl + doctype, 1) if body.startswith(decl) else doctype + body
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def typed(values):
    # Equality alone would take True for 1.0 and a date for nothing: compare the types too.
    return [(type(v).__name__, v) for v in values]


def calamine_rows(path, sheet):
    """{row number: cells} for the non-blank rows, as python-calamine reads them."""
    data = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return {i + 1: typed(row) for i, row in enumerate(data) if any(v != "" for v in row)}


def stream_rows(path, sheet, **kwargs):
    with XlsxBook(path, **kwargs) as book:
        return list(book.rows(sheet))


def assert_parity(path, sheet="Sheet1"):
    expected = calamine_rows(path, sheet)
    got = stream_rows(path, sheet)
    width = max((len(cells) for _, cells in expected.items()), default=0)
    numbers = [n for n, _ in got]
    assert numbers == sorted(set(numbers)), "rows come in file order, each once"
    padded = {n: typed(cells + [""] * (width - len(cells))) for n, cells in got if any(v != "" for v in cells)}
    assert padded == expected
    return got


# -- parity with calamine ---------------------------------------------------------------------------------------

def test_openpyxl_workbook_reads_like_calamine_with_sheets_in_workbook_order(tmp_path):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "说明"
    first.append(["这是说明"])
    data = book.create_sheet("团员信息")
    data.append(["姓名", "身份证号码", "入团年月", "手机号码", None, "备注"])
    data.append(["张三", "110101200403150012", dt.date(2020, 5, 4), 13800138000, None, "a & b < c"])
    data.append(["李四", 110101200403150000, dt.datetime(2020, 5, 4, 8, 30), "13800138000", True, 1.5])
    data.append([])
    data.append([None, None, "2019-07", None, False, "  spaces  "])
    hidden = book.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden["C3"] = "x"
    path = tmp_path / "ordinary.xlsx"
    book.save(path)
    with XlsxBook(path) as streamed:
        assert streamed.sheet_names == ["说明", "团员信息", "隐藏"]
    got = assert_parity(path, "团员信息")
    assert got[1] == (2, ["张三", "110101200403150012", dt.date(2020, 5, 4), 13800138000.0, "", "a & b < c"])
    assert assert_parity(path, "隐藏") == [(3, ["", "", "x"])]


def test_bench_style_workbook_with_inline_cjk_strings_reads_like_calamine(tmp_path):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("团员信息")
    sheet.append(["姓名", "民族", "入团年月", "电子邮箱"])
    for i in range(300):
        sheet.append([f"王{i}", "汉族", dt.date(2014, 1 + i % 12, 1) if i % 3 == 0 else f"2014-{1 + i % 12:02d}",
                      f"m{i}@example.org" if i % 4 == 0 else ""])
    path = tmp_path / "bench.xlsx"
    book.save(path)
    assert len(assert_parity(path, "团员信息")) == 301


SHARED = (
    "<si><t>plain</t></si>"
    '<si><r><t>rich</t></r><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve"> text </t></r>'
    '<rPh sb="0" eb="1"><t>リッチ</t></rPh><phoneticPr fontId="1" type="noConversion"/></si>'
    "<si><t>&lt;&gt;&amp;&quot;&apos;&#169;&#x263A;&#20013;_x000D_line_x000a_</t></si>"
    "<si><t/></si>"
    '<si><t xml:space="preserve">  kept  </t><rPh sb="0" eb="2"><t>ふりがな</t></rPh></si>'
    "<si><t>_x005F_x000D_ stays escaped, _xD83D_ too</t></si>"
    "<si><t>张三</t><phoneticPr fontId=\"1\"/></si>"
)


def test_shared_strings_with_rich_text_phonetic_runs_and_escapes_read_like_calamine(tmp_path):
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(7))
    path = build(tmp_path / "shared.xlsx", [("Sheet1", f'<row r="1">{cells}</row>')], shared=SHARED)
    got = assert_parity(path)
    assert got[0][1][:3] == ["plain", "rich text ", "<>&\"'©☺中\rline\n"]
    assert got[0][1][4] == "  kept  "


def test_many_plain_shared_strings_as_excel_writes_them_read_like_calamine(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 1000)  # many blocks: some plain only, some not
    strings = [f"<si><t>团员{i}</t></si>" if i % 50 else f'<si><t xml:space="preserve"> 第{i}个 </t></si>'
               for i in range(600)]
    strings[300] = "<si><t>a &amp; b</t></si>"
    strings[301] = "<si/>"
    rows = "".join(f'<row r="{r + 1}"><c r="A{r + 1}" t="s"><v>{r}</v></c><c r="C{r + 1}" t="s"><v>{599 - r}</v></c>'
                   "</row>" for r in range(600))
    got = assert_parity(build(tmp_path / "plain.xlsx", [("Sheet1", rows)], shared="".join(strings)))
    assert got[50] == (51, [" 第50个 ", "", "团员549"]) and got[300][1][0] == "a & b"


def test_inline_strings_rich_text_preserved_space_and_entities_read_like_calamine(tmp_path):
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&#22995;&#21517;</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t xml:space="preserve">  a&amp;b  </t></is></c>'
        '<c r="C2" t="inlineStr"><is><r><t>ab</t></r><r><rPr><b/></rPr><t>cd</t></r>'
        '<rPh sb="0" eb="1"><t>PH</t></rPh></is></c>'
        '<c r="D2" t="inlineStr"></c><c r="E2" t="inlineStr"><is><t/></is></c>'
        '<c r="F2" t="inlineStr"><is><t>x_x000D_y</t></is></c></row>'
    )
    got = assert_parity(build(tmp_path / "inline.xlsx", [("Sheet1", row)]))
    assert got == [(2, ["姓名", "  a&b  ", "abcd", "", "", "x\ry"])]


def test_x_prefixed_elements_as_written_by_the_openxml_sdk_read_like_calamine(tmp_path):
    row = ('<x:row r="1" spans="1:3"><x:c r="A1" t="s"><x:v>1</x:v></x:c><x:c r="B1"><x:v>2.5</x:v></x:c>'
           '<x:c r="C1" t="inlineStr"><x:is><x:t>内联</x:t></x:is></x:c></x:row>'
           '<x:row r="3"><x:c r="B3" s="1"><x:v>45000</x:v></x:c><x:c r="C3" t="str"><x:f>A1</x:f>'
           "<x:v>f</x:v></x:c></x:row>")
    styles = '<x:cellXfs count="2"><x:xf numFmtId="0"/><x:xf numFmtId="14"/></x:cellXfs>'
    path = build(tmp_path / "prefixed.xlsx", [("Sheet1", row)], shared=SHARED, styles=styles, prefix="x:")
    got = assert_parity(path)
    assert got == [(1, ["rich text ", 2.5, "内联"]), (3, ["", dt.date(2023, 3, 15), "f"])]


def test_missing_r_attributes_and_attributes_in_any_order_read_like_calamine(tmp_path):
    rows = ('<row><c t="s"><v>0</v></c><c><v>2</v></c><c r="E1"><v>3</v></c><c><v>4</v></c></row>'
            '<row r="4"><c t="n" s="0" r="B4"><v>5</v></c><c s="0" t="inlineStr" r="D4"><is><t>d</t></is></c></row>'
            "<row><c><v>6</v></c></row><row r=\"9\"/><row spans=\"1:2\" r=\"10\"><c><v>7</v></c></row>")
    got = assert_parity(build(tmp_path / "no_r.xlsx", [("Sheet1", rows)], shared=SHARED))
    assert [n for n, _ in got] == [1, 4, 5, 10]
    assert got[0][1] == ["plain", 2.0, "", "", 3.0, 4.0]


STYLES_FORMATS = [14, 15, 17, 20, 22, 27, 28, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 49, 50, 55, 56, 57, 58, 2]
CUSTOM_FORMATS = ["yyyy-mm", 'yyyy"年"m"月"', "[$-804]yyyy/m/d", '"day"0', "0.00;[Red]-0.00", "[h]:mm:ss",
                  "General", "@", "h:mm AM/PM", "mm:ss", "0_m", "\\d0", "0;yyyy", "[Red]yyyy", "a0",
                  '[DBNum1][$-804]yyyy"年"m"月"d"日"', "#,##0.00_);[Red](#,##0.00)", "0.0E+00"]
VALUES = ["45000", "45000.5", "0.25", "1", "59", "60", "61", "-0.25", "-1", "0.9999999999", "1.99999999999",
          "2958465", "2958466", "45000.12345678", "-0.0000001", "0"]


def _format_styles():
    custom = "".join(f'<numFmt numFmtId="{200 + i}" formatCode="{code.replace(chr(34), "&quot;")}"/>'
                     for i, code in enumerate(CUSTOM_FORMATS))
    ids = STYLES_FORMATS + [200 + i for i in range(len(CUSTOM_FORMATS))]
    xfs = '<xf numFmtId="0"/>' + "".join(f'<xf numFmtId="{i}"/>' for i in ids)
    styles = f'<numFmts count="{len(CUSTOM_FORMATS)}">{custom}</numFmts><cellXfs count="{len(ids) + 1}">{xfs}</cellXfs>'
    return styles, ids


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_builtin_cjk_and_custom_date_formats_give_the_dates_calamine_gives(tmp_path, date1904):
    styles, ids = _format_styles()
    rows = "".join(
        f'<row r="{s + 1}">'
        + "".join(f'<c r="{chr(65 + i)}{s + 1}" s="{s}"><v>{v}</v></c>' for i, v in enumerate(VALUES))
        + "</row>"
        for s in range(len(ids) + 1)
    )
    path = build(tmp_path / "dates.xlsx", [("Sheet1", rows)], styles=styles, date1904=date1904)
    got = dict(assert_parity(path))
    chinese = 1 + ids.index(31)  # row of numFmtId 31, "yyyy年m月d日"
    assert got[chinese + 1][0] == (dt.date(2023, 3, 15) if not date1904 else dt.date(2027, 3, 16))


def test_format_kind_follows_calamines_rules():
    assert format_kind('yyyy"年"m"月"') == xlsx_stream.KIND_DATE
    assert format_kind("[$-804]yyyy/m/d") == xlsx_stream.KIND_DATE
    assert format_kind("[h]:mm:ss") == xlsx_stream.KIND_DURATION
    assert format_kind('"day"0') == xlsx_stream.KIND_NUMBER
    assert format_kind("0;yyyy") == xlsx_stream.KIND_NUMBER  # only the first section counts
    assert format_kind("General") == xlsx_stream.KIND_NUMBER


def test_booleans_errors_formula_strings_iso_dates_empty_cells_and_gaps_read_like_calamine(tmp_path):
    row = (
        '<row r="2"><c r="B2" t="b"><v>1</v></c><c r="C2" t="b"><v>0</v></c><c r="D2" t="e"><v>#DIV/0!</v></c>'
        '<c r="E2" t="e"><v>#N/A</v></c><c r="F2" t="str"><f>A1&amp;"b"</f><v>a_x000D_b&amp;&#x4e2d;</v></c>'
        '<c r="G2" t="d"><v>2024-03-05T10:20:30</v></c><c r="H2" t="d"><v>2024-03-05</v></c>'
        '<c r="I2" t="d"><v>10:20:30</v></c><c r="J2"/><c r="K2" s="0"></c><c r="L2" t="str"><v></v></c>'
        '<c r="M2" t="str"/><c r="N2" t="e"/><c r="O2" t="d"><v>2024-03-05T10:20:30.123</v></c>'
        '<c r="P2" t="d"><v>garbage</v></c><c r="Q2"><f>1+1</f><v>2</v></c><c r="R2" t="b"><v>true</v></c>'
        '<c r="T2"><v>13800138000</v></c><c r="U2"><v>1E3</v></c><c r="V2" t="str"><v>  </v></c></row>'
        '<row r="3"><c r="A3"/><c r="B3" t="e"><v>#REF!</v></c></row>'
    )
    got = assert_parity(build(tmp_path / "kinds.xlsx", [("Sheet1", row)]))
    assert got[0][1][1:9] == [True, False, "", "", "a\rb&中", dt.datetime(2024, 3, 5, 10, 20, 30),
                              dt.date(2024, 3, 5), dt.time(10, 20, 30)]
    assert got[1] == (3, ["", ""]), "a row with cells but no values is still a row"


def test_pretty_printed_sheet_with_whitespace_between_elements_reads_like_calamine(tmp_path):
    row = ('\n  <row r="1">\n    <c r="A1" t="inlineStr">\n      <is>\n        <t>a</t>\n      </is>\n    </c>\n'
           '    <c r="B1">\n      <v>1</v>\n    </c>\n    <c r="C1" t="s">\n      <v>0</v>\n    </c>\n  </row>\n')
    got = assert_parity(build(tmp_path / "pretty.xlsx", [("Sheet1", row)], shared=SHARED))
    assert got == [(1, ["a", 1.0, "plain"])]


def test_parts_are_found_through_absolute_relationship_targets(tmp_path):
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = build(tmp_path / "abs.xlsx", [("One", row), ("Two", row)], shared=SHARED, absolute_targets=True)
    assert assert_parity(path, "Two") == [(1, ["plain"])]


def test_shared_strings_part_with_another_name_is_found_through_the_relationships(tmp_path):
    # calamine looks only for xl/sharedStrings.xml (and fails here), so no parity check.
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = build(tmp_path / "renamed.xlsx", [("One", row)], shared=SHARED, shared_name="strings_other.xml")
    assert stream_rows(path, "One") == [(1, ["plain"])]


def test_rows_split_across_any_chunk_border_read_the_same(tmp_path, monkeypatch):
    row = "".join(
        f'<x:row r="{r}"><x:c r="A{r}" t="s"><x:v>{r % 7}</x:v></x:c><x:c r="B{r}" t="inlineStr"><x:is>'
        f'<x:t>&#20013;{r}</x:t></x:is></x:c><x:c r="C{r}"><x:v>{r}.5</x:v></x:c></x:row>' for r in range(1, 40)
    )
    path = build(tmp_path / "chunks.xlsx", [("Sheet1", row)], shared=SHARED, prefix="x:")
    whole = stream_rows(path, "Sheet1")
    for size in (1, 7, 64, 333):
        monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", size)
        assert stream_rows(path, "Sheet1") == whole
    assert len(whole) == 39 and whole[-1] == (39, ["  kept  ", "中39", 39.5])
    assert_parity(path)


def test_rows_read_by_a_shape_of_an_earlier_row_match_rows_read_cell_by_cell(tmp_path, monkeypatch):
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="31"/></cellXfs>'
    variants = [
        '<c r="A{r}" t="s"><v>{s}</v></c><c r="C{r}" s="1"><v>4500{d}</v></c><c r="E{r}" t="inlineStr"><is><t>x{r}</t>'
        "</is></c>",
        '<c r="A{r}" t="s"><v>{s}</v></c><c r="C{r}" t="inlineStr"><is><t>2019-0{d}</t></is></c><c r="E{r}"/>',
        '<c r="A{r}" t="s"><v>{s}</v></c><c r="B{r}"><v></v></c><c r="C{r}" t="inlineStr"><is><t></t></is></c>',
        '<c r="A{r}" t="s"><v>{s}</v></c><c r="B{r}" t="b"><v>1</v></c><c r="C{r}" t="e"><v>#N/A</v></c>',
    ]
    rows = "".join(f'<row r="{r}">' + variants[(r * 7) % 5 % 4].format(r=r, s=r % 7, d=r % 9) + "</row>"
                   for r in range(1, 200))
    path = build(tmp_path / "shapes.xlsx", [("Sheet1", rows)], shared=SHARED, styles=styles)
    shaped = assert_parity(path)
    monkeypatch.setattr(xlsx_stream, "SHAPES", 0)
    assert stream_rows(path, "Sheet1") == shaped


def test_rows_of_ever_changing_shapes_are_read_token_by_token_and_still_match(tmp_path):
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}"><v>{r}.{c}</v></c>' for c in range(r % 20 + 1))
                   + "</row>" for r in range(1, 2001))
    got = assert_parity(build(tmp_path / "varied.xlsx", [("Sheet1", rows)]))
    assert len(got) == 2000 and got[-1] == (2000, [2000.0])


def test_dimension_gives_the_last_row_of_the_ref_or_none(tmp_path):
    with_dim = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:M100001"/><sheetData>'
                '<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>')
    single = f'<worksheet xmlns="{MAIN}"><dimension ref="B2"/><sheetData/></worksheet>'
    path = build(tmp_path / "dim.xlsx", [("A", with_dim), ("B", single), ("C", '<row r="1"/>')])
    with XlsxBook(path) as book:
        assert [book.dimension(name) for name in ("A", "B", "C")] == [100001, 2, None]
        assert list(book.rows("B")) == [] and list(book.rows("C")) == []


def test_rows_stream_without_decompressing_the_whole_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 4096)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 20001))
    path = build(tmp_path / "big.xlsx", [("Sheet1", rows)])
    with XlsxBook(path) as book:
        iterator = book.rows("Sheet1")
        assert next(iterator) == (1, [1.0])
        assert book._read_bytes < 20 * 4096


def test_shared_strings_are_one_utf8_buffer_in_memory_or_a_file_when_large(tmp_path, shared_strings_storage):
    path = build(tmp_path / "sst.xlsx", [("Sheet1", '<row r="1"><c r="A1" t="s"><v>6</v></c></row>')], shared=SHARED)
    with XlsxBook(path) as book:
        kept = bytearray if shared_strings_storage == "in memory" else xlsx_stream._SpilledText
        assert isinstance(book._shared.data, kept) and len(book._shared) == 7
        assert list(book.rows("Sheet1")) == [(1, ["张三"])]


# -- damaged and unsafe content ---------------------------------------------------------------------------------

def _valid(tmp_path, rows=200):
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>text {r * 7919}</t>'
                   f"</is></c></row>" for r in range(1, rows + 1))
    return build(tmp_path / "valid.xlsx", [("Sheet1", body)])


def test_truncated_zip_file_raises_xlsx_error(tmp_path):
    path = _valid(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(XlsxError):
        XlsxBook(path)


def test_corrupted_compressed_sheet_member_raises_xlsx_error(tmp_path):
    path = _valid(tmp_path, rows=3000)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + info.compress_size // 2, start + info.compress_size // 2 + 64):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    with XlsxBook(path) as book, pytest.raises(XlsxError):
        list(book.rows("Sheet1"))


@pytest.mark.parametrize("body", [
    '<row r="1"><c r="A1"><v>1</v></row>',  # unclosed <c>
    '<row r="1"><c r="A1"><v>1</c></row>',  # unclosed <v>
    '<row r="1"><c r="A1"><v>1</v></c>',  # unclosed <row>
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a &nbsp; b</t></is></c></row>',  # unknown entity
    '<row r="1"><c r="A1"><v>1</v></c></row>stray text',
    '<row r="1"><c r="A1" t="zz"><v>1</v></c></row>',  # unknown cell type
    '<row r="1"><c r="A1"><v>abc</v></c></row>',  # not a number
    '<row r="1"><c r="A1" t="s"><v>99</v></c></row>',  # no such shared string
    '<c r="A1"><v>1</v></c>',  # a cell outside a row
    '<row r="1"><c r="A1" t="b"><v>maybe</v></c></row>',
])
def test_malformed_sheet_xml_raises_xlsx_error(tmp_path, body):
    path = build(tmp_path / "bad.xlsx", [("Sheet1", body)], shared="<si><t>x</t></si>")
    with XlsxBook(path) as book, pytest.raises(XlsxError):
        list(book.rows("Sheet1"))


def test_sheet_without_end_of_sheet_data_raises_xlsx_error(tmp_path):
    cut = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
    path = build(tmp_path / "cut.xlsx", [("Sheet1", cut)])
    with XlsxBook(path) as book, pytest.raises(XlsxError):
        list(book.rows("Sheet1"))


def test_malformed_workbook_part_raises_xlsx_error(tmp_path):
    path = build(tmp_path / "wb.xlsx", [("Sheet1", '<row r="1"/>')])
    data = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/workbook.xml":
                content = content.replace(b"</sheets>", b"")
            target.writestr(info, content)
    path.write_bytes(data.getvalue())
    with pytest.raises(XlsxError):
        XlsxBook(path)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"])
def test_doctype_in_any_part_raises_xlsx_error(tmp_path, part):
    path = build(tmp_path / "dtd.xlsx", [("Sheet1", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>')],
                 shared=SHARED, doctype_in=part)
    with pytest.raises(XlsxError), XlsxBook(path) as book:
        list(book.rows("Sheet1"))


def test_decompressed_bytes_past_max_bytes_raise_xlsx_error(tmp_path):
    path = _valid(tmp_path, rows=3000)
    with XlsxBook(path) as book:
        assert len(list(book.rows("Sheet1"))) == 3000
    with XlsxBook(path, max_bytes=50_000) as book, pytest.raises(XlsxError, match="more than 50000 bytes"):
        list(book.rows("Sheet1"))


def test_unknown_sheet_and_missing_sheet_part_raise_xlsx_error(tmp_path):
    path = build(tmp_path / "missing.xlsx", [("Sheet1", '<row r="1"/>')])
    with XlsxBook(path) as book, pytest.raises(XlsxError):
        list(book.rows("Nope"))
    data = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(data, "w") as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info))
    path.write_bytes(data.getvalue())
    with XlsxBook(path) as book, pytest.raises(XlsxError):
        list(book.rows("Sheet1"))


def test_not_a_zip_raises_xlsx_error(tmp_path):
    path = tmp_path / "text.xlsx"
    path.write_bytes(b"name,id\n")
    with pytest.raises(XlsxError):
        XlsxBook(path)


def test_spilled_text_slices_like_the_bytes_it_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream._SpilledText, "BLOCK_BITS", 3)  # 8-byte blocks
    monkeypatch.setattr(xlsx_stream._SpilledText, "CACHED_BLOCKS", 2)
    data = "团员甲乙丙丁戊己庚辛".encode() + bytes(range(40))
    with (tmp_path / "blob").open("w+b") as fh:
        fh.write(data)
        fh.flush()
        text = xlsx_stream._SpilledText(fh)
        for start, stop in [(0, 3), (0, 8), (5, 11), (8, 16), (30, 31), (3, 3), (0, len(data)), (2, 70), (69, 70)]:
            assert text[start:stop] == data[start:stop], (start, stop)


# -- workbooks as other writers store them ----------------------------------------------------------------------

def rewritten(path, *, parts=None, rename=None):
    """The .xlsx at path with some parts replaced or added (parts: {name: text}) and members renamed
    (rename: a function of the member name)."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members.update({name: text.encode() for name, text in (parts or {}).items()})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(rename(name) if rename else name, data)
    return path


CHART_SHEET = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               f'<chartsheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetPr/><sheetViews><sheetView workbookViewId="0"/>'
               '</sheetViews><drawing r:id="rId1"/></chartsheet>')


def test_chart_sheet_before_the_data_sheet_is_skipped_not_taken_for_damage(tmp_path):
    # A chart sheet has no sheetData: reading it as a worksheet refused the workbook as damaged.
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = build(tmp_path / "chart.xlsx", [("图表1", row), ("Data", row)], shared=SHARED)
    rels = zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels").decode()
    rels = rels.replace(f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"',
                        f'Type="{REL}/chartsheet" Target="chartsheets/sheet1.xml"')
    rewritten(path, parts={"xl/_rels/workbook.xml.rels": rels, "xl/chartsheets/sheet1.xml": CHART_SHEET})
    with XlsxBook(path) as book:
        assert book.sheet_names == ["Data"]
        assert list(book.rows("Data")) == [(1, ["plain"])]
    assert assert_parity(path, "Data") == [(1, ["plain"])]


def test_chart_sheet_before_the_data_sheet_does_not_stop_an_import(tmp_path):
    from imports.reader import Workbook

    headers = ["姓名", "身份证号码", "手机号码", "团内现任职务", "任现职年月", "团干部性质"]
    header = '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>'
                                     for i, h in enumerate(headers)) + "</row>"
    path = build(tmp_path / "chart.xlsx", [("图表1", header), ("团员", header)])
    rels = zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels").decode()
    rels = rels.replace(f'{REL}/worksheet" Target="worksheets/sheet1.xml"',
                        f'{REL}/chartsheet" Target="chartsheets/sheet1.xml"')
    rewritten(path, parts={"xl/_rels/workbook.xml.rels": rels, "xl/chartsheets/sheet1.xml": CHART_SHEET})
    data = Workbook(path).find_data("cadre")
    assert data.sheet_name == "团员" and data.header_row == 1


def test_hidden_sheets_are_listed_as_hidden(tmp_path):
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = build(tmp_path / "hidden.xlsx", [("One", row), ("Two", row), ("Three", row)], shared=SHARED)
    workbook = zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    workbook = workbook.replace('name="One"', 'name="One" state="hidden"').replace(
        'name="Three"', 'name="Three" state="veryHidden"')
    rewritten(path, parts={"xl/workbook.xml": workbook})
    with XlsxBook(path) as book:
        assert book.sheet_names == ["One", "Two", "Three"] and book.hidden_sheets == {"One", "Three"}


LINE_BREAKS = ["a\r\nb", "a\rb", "a_x000D_\r\nb", "\r\nx\r\n", "a&#13;&#10;b", "a&#13;b", "a\nb"]
# As XML's end-of-line rule reads them (calamine, openpyxl, every XML parser): a literal CR LF or lone CR is LF;
# a CR written as &#13; or _x000D_ stays a CR.
LINE_BREAKS_READ = ["a\nb", "a\nb", "a\r\nb", "\nx\n", "a\r\nb", "a\rb", "a\nb"]


def test_line_breaks_inside_text_are_read_as_lf_like_xml_readers_and_calamine(tmp_path, monkeypatch):
    # Excel stored a cell's line break as _x000D_ and a literal CR LF; it was read as "\r\r\n".
    shared = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in LINE_BREAKS)
    shared_row = '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>'
                                         for i in range(len(LINE_BREAKS))) + "</row>"
    inline_row = '<row r="2">' + "".join(f'<c r="{chr(65 + i)}2" t="inlineStr"><is><t xml:space="preserve">'
                                         f"{text}</t></is></c>" for i, text in enumerate(LINE_BREAKS)) + "</row>"
    path = build(tmp_path / "breaks.xlsx", [("Sheet1", shared_row + inline_row)], shared=shared)
    expected = [(1, LINE_BREAKS_READ), (2, LINE_BREAKS_READ)]
    assert assert_parity(path) == expected
    for size in (1, 2, 3, 5):  # a CR LF split between two chunks is still one line break
        monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", size)
        assert stream_rows(path, "Sheet1") == expected


def test_part_names_that_differ_in_case_from_the_relationships_are_read(tmp_path):
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45000</v></c></row>'
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    path = build(tmp_path / "case.xlsx", [("Sheet1", row)], shared=SHARED, styles=styles)
    rewritten(path, rename=lambda name: {"xl/sharedStrings.xml": "xl/SharedStrings.xml",
                                         "xl/styles.xml": "xl/Styles.xml",
                                         "xl/worksheets/sheet1.xml": "xl/worksheets/Sheet1.xml"}.get(name, name))
    assert stream_rows(path, "Sheet1") == [(1, ["plain", dt.date(2023, 3, 15)])]
    assert assert_parity(path) == [(1, ["plain", dt.date(2023, 3, 15)])]


def test_part_names_stored_with_backslashes_are_read(tmp_path):
    row = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>2</v></c></row>'
    path = build(tmp_path / "backslash.xlsx", [("Sheet1", row)], shared=SHARED)
    rewritten(path, rename=lambda name: name.replace("/", "\\"))
    assert "xl\\workbook.xml" in zipfile.ZipFile(path).namelist()
    assert assert_parity(path) == [(1, ["plain", 2.0])]


def test_rows_without_r_whose_cells_have_one_keep_their_numbers_after_a_gap(tmp_path):
    # Counting such rows from the last one shifted every row after a gap up (row 5 read as row 2).
    rows = ('<row><c r="A1" t="s"><v>0</v></c></row>'
            '<row><c r="A5"><v>5</v></c><c r="C5"><v>6</v></c></row>'
            '<row spans="1:3"><c s="0" r="B9"><v>9</v></c></row>'
            '<row r="12"><c r="A12"><v>12</v></c></row><row><c><v>13</v></c></row>')
    got = assert_parity(build(tmp_path / "gap.xlsx", [("Sheet1", rows)], shared=SHARED))
    assert got == [(1, ["plain"]), (5, [5.0, "", 6.0]), (9, ["", 9.0]), (12, [12.0]), (13, [13.0])]


def test_leading_and_trailing_spaces_are_kept_where_calamine_trims_them(tmp_path):
    # The one difference from calamine, on purpose: calamine trims the text of a <t> without
    # xml:space="preserve"; XML says the spaces are there, and openpyxl keeps them too. (Import cleaning trims
    # cells anyway.)
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t> inline </t></is></c></row>'
    path = build(tmp_path / "spaces.xlsx", [("Sheet1", rows)], shared="<si><t>  shared  </t></si>")
    assert stream_rows(path, "Sheet1") == [(1, ["  shared  ", " inline "])]
    assert calamine_rows(path, "Sheet1") == {1: typed(["shared", "inline"])}
