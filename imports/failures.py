"""The failure workbook: the failed rows as uploaded, in the same column layout, plus a reason column. Each bad
cell is highlighted and carries its reason as a comment, so the admin fixes the cells and uploads the file again.

Every cell is written as text in a text-formatted cell, so Excel cannot mangle ID numbers again and a value such
as "=1+2" stays text rather than becoming a formula.

The SpreadsheetML parts are written here directly rather than through openpyxl: its per-cell objects and
comment shapes cost about 0.3 ms per failed row, which made the workbook the slowest step of a large import.
The parts mirror what openpyxl 3.1 writes for the same sheet (inline strings, four cell styles, comments plus
the legacy VML drawing Excel needs to show them), with the usual Excel namespace prefixes. Rows, comments and
comment shapes stream to temporary files as they are added, so memory does not grow with the number of rows;
save() copies them into the zip.
"""

import contextlib
import datetime as dt
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from django.utils.translation import gettext as _

from .validation import Row

# Characters XML 1.0 cannot hold; lone surrogates cannot even be encoded as UTF-8.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads "_xHHHH_" in a string as the character U+HHHH; an underscore escaped as _x005F_ keeps such text
# literal.
_X_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
BAD_FILL = "FFC7CE"
BAD_FONT = "9C0006"
HEADER_FILL = "D9E1F2"
REASON_FILL = "FFF2CC"
YEAR_MONTH_KEYS = {"joined_on", "since"}
COMMENT_AUTHOR = "zhtj"
COLUMN_WIDTH = 16
REASON_WIDTH = 40
# Shapes in a VML drawing are numbered in blocks of 1024 per "idmap" entry; block 0 is reserved.
_SHAPES_PER_BLOCK = 1024
_BUFFER_BYTES = 1 << 20

# Cell style indexes into cellXfs below.
_TEXT, _HEADER, _BAD, _REASON = 1, 2, 3, 4


def cell_as_text(value: object, *, year_month: bool = False) -> str | None:
    """How a cell is written back: its text as the admin typed it, never a number or a formula."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%Y-%m}" if year_month else f"{value:%Y-%m-%d}"
    return _ILLEGAL.sub("", str(value))


def _xml(text: str) -> str:
    """Character data for an element: illegal characters dropped, markup and Excel's _x escapes escaped."""
    if not text.isprintable():  # every character _ILLEGAL matches is unprintable
        text = _ILLEGAL.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "_x" in text:
        text = _X_ESCAPE.sub("_x005F_", text)
    return text


def _t(text: str) -> str:
    """A <t> element; leading or trailing whitespace survives only with xml:space="preserve"."""
    if text != text.strip():
        return f'<t xml:space="preserve">{_xml(text)}</t>'
    return f"<t>{_xml(text)}</t>"


def _attr(text: str) -> str:
    return _xml(text).replace('"', "&quot;")


def sheet_name_for(name: str | None) -> str:
    """A name Excel accepts for a sheet: no []:*?/\\, not quoted, not empty, at most 31 characters."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", _ILLEGAL.sub("", name or ""))[:31].strip("'")
    if not name or name.lower() == "history":  # "History" is reserved by Excel
        return "Sheet1"
    return name


def _letter(index: int) -> str:
    """Column letters for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class FailureWorkbook:
    def __init__(self, path: Path, *, sheet_name: str, header_cells: list[object], positions: dict[str, int]) -> None:
        self.path = path
        self.count = 0
        self._sheet_name = sheet_name_for(sheet_name)
        self._width = max(len(header_cells), max(positions.values(), default=0) + 1)
        self._letters = [_letter(index) for index in range(self._width + 1)]
        # (index, letter, key, writes the value as a year-month) for each uploaded column
        self._columns = []
        key_at = {pos: key for key, pos in positions.items()}
        for index in range(self._width):
            key = key_at.get(index)
            self._columns.append((index, self._letters[index], key, key in YEAR_MONTH_KEYS))
        self._comments = 0
        self._rows = _scratch()
        self._comment_xml = _scratch()
        self._shapes = _scratch()
        header = []
        for index in range(self._width):
            value = cell_as_text(header_cells[index]) if index < len(header_cells) else None
            header.append(self._cell(self._letters[index], 1, value, _HEADER))
        header.append(self._cell(self._letters[self._width], 1, _("Failure reason"), _HEADER))
        self._rows.write(f'<row r="1">{"".join(header)}</row>')

    @staticmethod
    def _cell(letter: str, number: int, value: str | None, style: int) -> str:
        if value is None:
            return f'<c r="{letter}{number}" s="{style}"/>'
        return f'<c r="{letter}{number}" s="{style}" t="inlineStr"><is>{_t(value)}</is></c>'

    def add(self, row: Row) -> None:
        self.count += 1
        number = self.count + 1
        cells = row.cells
        errors = row.errors
        available = len(cells)
        parts = [f'<row r="{number}">']
        for index, letter, key, year_month in self._columns:
            value = cells[index] if index < available else None
            # A non-empty str, the common case, is taken as it is (cell_as_text would only drop illegal
            # characters, which _t does too).
            text = value if type(value) is str and value else cell_as_text(value, year_month=year_month)
            if key is not None and key in errors:
                parts.append(self._cell(letter, number, text, _BAD))
                self._comment(f"{letter}{number}", number - 1, index, errors[key])
            elif text is None:
                parts.append(f'<c r="{letter}{number}" s="{_TEXT}"/>')
            else:
                parts.append(f'<c r="{letter}{number}" s="{_TEXT}" t="inlineStr"><is>{_t(text)}</is></c>')
        parts.append(self._cell(self._letters[self._width], number, row.reason(), _REASON))
        parts.append("</row>")
        self._rows.write("".join(parts))

    def _comment(self, ref: str, row: int, column: int, message: str) -> None:
        self._comment_xml.write(f'<comment ref="{ref}" authorId="0" shapeId="0"><text>{_t(str(message))}</text>'
                                "</comment>")
        self._comments += 1
        shape_id = _SHAPES_PER_BLOCK + self._comments
        self._shapes.write(
            f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            'margin-top:1.5pt;width:320px;height:120px;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
            f"<x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{column}</x:Column>"
            "</x:ClientData></v:shape>")

    def save(self) -> Path | None:
        """Write the file; None (and no file) when no row failed."""
        if self.count == 0:
            self.discard()
            return None
        try:
            self._write_zip()
        except BaseException:
            with contextlib.suppress(OSError):
                Path(self.path).unlink()
            raise
        finally:
            self.discard()
        return self.path

    def discard(self) -> None:
        """Drop the temporary rows and comments without writing a workbook."""
        for part in (self._rows, self._comment_xml, self._shapes):
            # Nothing is kept from them; a cleanup error here is irrelevant.
            with contextlib.suppress(Exception):
                part.close()

    def _write_zip(self) -> None:
        has_comments = self._comments > 0
        last = f"{self._letters[self._width]}{self.count + 1}"
        # Level 1: the parts are highly repetitive, so it compresses nearly as well as the default at a
        # fraction of the time.
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
            book.writestr("[Content_Types].xml", _content_types(has_comments))
            book.writestr("_rels/.rels", _ROOT_RELS)
            book.writestr("docProps/app.xml", _APP)
            book.writestr("docProps/core.xml", _core())
            book.writestr("xl/workbook.xml", _WORKBOOK.format(name=_attr(self._sheet_name)))
            book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
            book.writestr("xl/styles.xml", _STYLES)
            book.writestr("xl/theme/theme1.xml", _THEME)
            with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
                part.write(_sheet_head(self._width, last).encode())
                _copy(self._rows, part)
                part.write(_sheet_tail(has_comments).encode())
            if has_comments:
                book.writestr("xl/worksheets/_rels/sheet1.xml.rels", _SHEET_RELS)
                with book.open("xl/comments/comment1.xml", "w", force_zip64=True) as part:
                    part.write(_COMMENTS_HEAD.encode())
                    _copy(self._comment_xml, part)
                    part.write(b"</commentList></comments>")
                blocks = ",".join(str(b) for b in range(1, self._comments // _SHAPES_PER_BLOCK + 2))
                with book.open("xl/drawings/commentsDrawing1.vml", "w", force_zip64=True) as part:
                    part.write(_VML_HEAD.format(blocks=blocks).encode())
                    _copy(self._shapes, part)
                    part.write(b"</xml>")


def _scratch():
    """A temporary file for one streamed part; FailureWorkbook.discard() closes (and so deletes) it."""
    # Text mode: a row is joined as one str and encoded once per buffer flush.
    return tempfile.TemporaryFile("w+", encoding="utf-8", newline="", buffering=_BUFFER_BYTES)  # noqa: SIM115


def _copy(source, target) -> None:
    source.flush()
    source.buffer.seek(0)
    shutil.copyfileobj(source.buffer, target, _BUFFER_BYTES)


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _content_types(has_comments: bool) -> str:
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = [
        ("/xl/workbook.xml", f"{sml}.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", f"{sml}.worksheet+xml"),
        ("/xl/styles.xml", f"{sml}.styles+xml"),
        ("/xl/theme/theme1.xml", "application/vnd.openxmlformats-officedocument.theme+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
    ]
    if has_comments:
        overrides.append(("/xl/comments/comment1.xml", f"{sml}.comments+xml"))
    return (
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
        + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
        + "</Types>"
    )


_ROOT_RELS = (
    f'{_XML_DECL}<Relationships xmlns="{_PKG_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_R_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_R_NS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP = (
    f'{_XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Microsoft Excel Compatible / zhtj</Application></Properties>"
)


def _core() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'{_XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{COMMENT_AUTHOR}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'
    )


_WORKBOOK = (
    f'{_XML_DECL}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_R_NS}"><workbookPr/><bookViews>'
    '<workbookView visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" '
    'showSheetTabs="1" tabRatio="600" firstSheet="0" activeTab="0" autoFilterDateGrouping="1"/></bookViews>'
    '<sheets><sheet name="{name}" sheetId="1" state="visible" r:id="rId1"/></sheets>'
    '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
)

_WORKBOOK_RELS = (
    f'{_XML_DECL}<Relationships xmlns="{_PKG_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_R_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_R_NS}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId3" Type="{_R_NS}/theme" Target="theme/theme1.xml"/>'
    "</Relationships>"
)

_SHEET_RELS = (
    f'{_XML_DECL}<Relationships xmlns="{_PKG_RELS_NS}">'
    f'<Relationship Id="comments" Type="{_R_NS}/comments" Target="../comments/comment1.xml"/>'
    f'<Relationship Id="anysvml" Type="{_R_NS}/vmlDrawing" Target="../drawings/commentsDrawing1.vml"/>'
    "</Relationships>"
)

# Cell styles (cellXfs), all text-formatted (numFmtId 49 is "@"): 0 the default, 1 a cell, 2 a header cell,
# 3 a bad cell, 4 a reason cell.
_STYLES = (
    f'{_XML_DECL}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="3"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font>'
    f'<font><sz val="11"/><color rgb="FF{BAD_FONT}"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
    "</font>"
    '<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
    "</font></fonts>"
    '<fills count="5"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    "</fill>"
    + "".join(f'<fill><patternFill patternType="solid"><fgColor rgb="FF{color}"/><bgColor indexed="64"/>'
              "</patternFill></fill>" for color in (BAD_FILL, REASON_FILL, HEADER_FILL))
    + '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="2" fillId="4" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"'
    ' applyFill="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"'
    ' applyFill="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="3" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1"'
    ' applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


# The Office theme openpyxl writes (its per-script font lists left out: they are optional); the fonts above
# refer to its colours.
_DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
_THEME = (
    f"{_XML_DECL}"
    f'<a:theme xmlns:a="{_DRAWING_NS}" name="Office Theme"><a:themeElements><a:clrScheme name="Office"><a:dk1>'
    '<a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/>'
    '</a:lt1><a:dk2><a:srgbClr val="1F497D"/></a:dk2><a:lt2><a:srgbClr val="EEECE1"/></a:lt2><a:accent1>'
    '<a:srgbClr val="4F81BD"/></a:accent1><a:accent2><a:srgbClr val="C0504D"/></a:accent2><a:accent3>'
    '<a:srgbClr val="9BBB59"/></a:accent3><a:accent4><a:srgbClr val="8064A2"/></a:accent4><a:accent5>'
    '<a:srgbClr val="4BACC6"/></a:accent5><a:accent6><a:srgbClr val="F79646"/></a:accent6><a:hlink>'
    '<a:srgbClr val="0000FF"/></a:hlink><a:folHlink><a:srgbClr val="800080"/></a:folHlink></a:clrScheme>'
    '<a:fontScheme name="Office"><a:majorFont><a:latin typeface="Cambria"/><a:ea typeface=""/><a:cs typeface=""/>'
    '</a:majorFont><a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>'
    '</a:fontScheme><a:fmtScheme name="Office"><a:fillStyleLst><a:solidFill><a:schemeClr val="phClr"/>'
    '</a:solidFill><a:gradFill rotWithShape="1"><a:gsLst><a:gs pos="0"><a:schemeClr val="phClr">'
    '<a:tint val="50000"/><a:satMod val="300000"/></a:schemeClr></a:gs><a:gs pos="35000">'
    '<a:schemeClr val="phClr"><a:tint val="37000"/><a:satMod val="300000"/></a:schemeClr></a:gs>'
    '<a:gs pos="100000"><a:schemeClr val="phClr"><a:tint val="15000"/><a:satMod val="350000"/></a:schemeClr>'
    '</a:gs></a:gsLst><a:lin ang="16200000" scaled="1"/></a:gradFill><a:gradFill rotWithShape="1"><a:gsLst>'
    '<a:gs pos="0"><a:schemeClr val="phClr"><a:shade val="51000"/><a:satMod val="130000"/></a:schemeClr></a:gs>'
    '<a:gs pos="80000"><a:schemeClr val="phClr"><a:shade val="93000"/><a:satMod val="130000"/></a:schemeClr>'
    '</a:gs><a:gs pos="100000"><a:schemeClr val="phClr"><a:shade val="94000"/><a:satMod val="135000"/>'
    '</a:schemeClr></a:gs></a:gsLst><a:lin ang="16200000" scaled="0"/></a:gradFill></a:fillStyleLst>'
    '<a:lnStyleLst><a:ln w="9525" cap="flat" cmpd="sng" algn="ctr"><a:solidFill><a:schemeClr val="phClr">'
    '<a:shade val="95000"/><a:satMod val="105000"/></a:schemeClr></a:solidFill><a:prstDash val="solid"/></a:ln>'
    '<a:ln w="25400" cap="flat" cmpd="sng" algn="ctr"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    '<a:prstDash val="solid"/></a:ln><a:ln w="38100" cap="flat" cmpd="sng" algn="ctr"><a:solidFill>'
    '<a:schemeClr val="phClr"/></a:solidFill><a:prstDash val="solid"/></a:ln></a:lnStyleLst><a:effectStyleLst>'
    '<a:effectStyle><a:effectLst><a:outerShdw blurRad="40000" dist="20000" dir="5400000" rotWithShape="0">'
    '<a:srgbClr val="000000"><a:alpha val="38000"/></a:srgbClr></a:outerShdw></a:effectLst></a:effectStyle>'
    '<a:effectStyle><a:effectLst><a:outerShdw blurRad="40000" dist="23000" dir="5400000" rotWithShape="0">'
    '<a:srgbClr val="000000"><a:alpha val="35000"/></a:srgbClr></a:outerShdw></a:effectLst></a:effectStyle>'
    '<a:effectStyle><a:effectLst><a:outerShdw blurRad="40000" dist="23000" dir="5400000" rotWithShape="0">'
    '<a:srgbClr val="000000"><a:alpha val="35000"/></a:srgbClr></a:outerShdw></a:effectLst><a:scene3d>'
    '<a:camera prst="orthographicFront"><a:rot lat="0" lon="0" rev="0"/></a:camera>'
    '<a:lightRig rig="threePt" dir="t"><a:rot lat="0" lon="0" rev="1200000"/></a:lightRig></a:scene3d><a:sp3d>'
    '<a:bevelT w="63500" h="25400"/></a:sp3d></a:effectStyle></a:effectStyleLst><a:bgFillStyleLst><a:solidFill>'
    '<a:schemeClr val="phClr"/></a:solidFill><a:gradFill rotWithShape="1"><a:gsLst><a:gs pos="0">'
    '<a:schemeClr val="phClr"><a:tint val="40000"/><a:satMod val="350000"/></a:schemeClr></a:gs>'
    '<a:gs pos="40000"><a:schemeClr val="phClr"><a:tint val="45000"/><a:shade val="99000"/>'
    '<a:satMod val="350000"/></a:schemeClr></a:gs><a:gs pos="100000"><a:schemeClr val="phClr">'
    '<a:shade val="20000"/><a:satMod val="255000"/></a:schemeClr></a:gs></a:gsLst><a:path path="circle">'
    '<a:fillToRect l="50000" t="-80000" r="50000" b="180000"/></a:path></a:gradFill><a:gradFill rotWithShape="1">'
    '<a:gsLst><a:gs pos="0"><a:schemeClr val="phClr"><a:tint val="80000"/><a:satMod val="300000"/></a:schemeClr>'
    '</a:gs><a:gs pos="100000"><a:schemeClr val="phClr"><a:shade val="30000"/><a:satMod val="200000"/>'
    '</a:schemeClr></a:gs></a:gsLst><a:path path="circle"><a:fillToRect l="50000" t="50000" r="50000" b="50000"/>'
    '</a:path></a:gradFill></a:bgFillStyleLst></a:fmtScheme></a:themeElements><a:objectDefaults/>'
    '<a:extraClrSchemeLst/></a:theme>'
)


def _sheet_head(width: int, last: str) -> str:
    columns = (f'<col min="1" max="{width}" width="{COLUMN_WIDTH}" customWidth="1" style="{_TEXT}"/>'
               f'<col min="{width + 1}" max="{width + 1}" width="{REASON_WIDTH}" customWidth="1" style="{_TEXT}"/>')
    return (
        f'{_XML_DECL}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_R_NS}">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>'
        f"<cols>{columns}</cols><sheetData>"
    )


def _sheet_tail(has_comments: bool) -> str:
    tail = '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
    if has_comments:
        tail += '<legacyDrawing r:id="anysvml"/>'
    return tail + "</worksheet>"


_COMMENTS_HEAD = (
    f'{_XML_DECL}<comments xmlns="{_MAIN_NS}"><authors><author>{COMMENT_AUTHOR}</author></authors><commentList>'
)

_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)
