"""Opening an uploaded workbook safely and finding its data: the sheet and header row are found by the
column names, so instruction sheets, merged title rows, extra and hidden columns and blank rows are fine.

Every problem with the file as a whole raises FileError with one sentence a branch admin understands.
Checks run before the spreadsheet is parsed: the size, the file signature, a zip's declared uncompressed size
(zip bombs), XML document type declarations (entity expansion, external entities; checked with defusedxml)
and the sheet's extent (row limit). An .xlsx sheet is then streamed row by row (imports.xlsx_stream), so
memory does not grow with the file; a legacy .xls (at most 65,536 rows by its format) is read by
python-calamine.
"""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from zhtj.errors import UserError

from .columns import BY_KEY, accepted_columns, help_texts, match_header, required_columns
from .xlsx_stream import XlsxBook, XlsxError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# How far down a sheet the header row may be (below title rows and notes).
HEADER_SEARCH_ROWS = 30
# Per zip member: a compression ratio above this on a large member is a zip bomb, not a spreadsheet.
MAX_COMPRESSION_RATIO = 200
PROLOG_BYTES = 4096
# The start of a file read for its signature; an encrypted .xlsx names its "EncryptedPackage" stream in it.
HEAD_BYTES = 4 * 1024 * 1024

IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"%PDF")


class FileError(UserError):
    """The file as a whole cannot be imported; str(exc) is the user-facing sentence."""


def max_uncompressed_bytes() -> int:
    return getattr(settings, "ZHTJ_IMPORT_MAX_UNCOMPRESSED_BYTES", 20 * settings.ZHTJ_IMPORT_MAX_BYTES)


def _check_signature(data: bytes, name: str) -> str:
    """'xlsx' or 'xls' by content (never by the file name); FileError for anything else."""
    if not data:
        raise FileError(_("The file is empty. Choose the filled-in Excel workbook (.xlsx or .xls)."))
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        # An encrypted .xlsx is an OLE container holding an "EncryptedPackage" stream.
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data[:65536]:
            raise _password_error()
        return "xls"
    if data.startswith(IMAGE_SIGNATURES):
        raise FileError(_("This file is an image or a PDF, not an Excel workbook. Upload the filled-in template"
                          " (.xlsx or .xls)."))
    head = data[:2048]
    try:
        head.decode("utf-8")
        looks_text = True
    except UnicodeDecodeError:
        looks_text = False
    if looks_text or name.lower().endswith((".csv", ".txt")):
        raise FileError(_("This file is plain text (for example CSV) renamed or saved as text, not an Excel"
                          " workbook. Open it in Excel or WPS and save it as .xlsx, then upload it again."))
    raise FileError(_("This file is not an Excel workbook. Upload the filled-in template (.xlsx or .xls)."))


def _password_error() -> FileError:
    return FileError(_("This workbook is protected with a password. Open it, remove the password (save it"
                       " without encryption), then upload it again."))


def _corrupt_error() -> FileError:
    return FileError(_("The workbook is damaged or incomplete (perhaps the upload or download was cut short)."
                       " Open it in Excel or WPS, save it again as .xlsx, and upload the new file."))


def _check_xlsx_container(path: Path) -> None:
    """Zip-level checks before any XML is parsed: total and per-member size, and no DTDs in the XML parts."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _corrupt_error() from None
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            if "word/document.xml" in names:
                raise FileError(_("This is a Word document, not an Excel workbook. Upload the filled-in template"
                                  " (.xlsx or .xls)."))
            raise FileError(_("This file is not an Excel workbook. Upload the filled-in template (.xlsx or .xls)."))
        total = sum(info.file_size for info in infos)
        if total > max_uncompressed_bytes() or any(
            info.file_size > 10 * 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
            for info in infos
        ):
            raise FileError(_("This workbook unpacks to far more data than a member list can hold; it cannot be"
                              " imported. Split it into smaller files or use the template."))
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                try:
                    with archive.open(info) as part:
                        prolog = part.read(PROLOG_BYTES)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
                    # RuntimeError: an encrypted zip member.
                    raise _corrupt_error() from None
                _check_prolog(prolog)


def _check_prolog(prolog: bytes) -> None:
    """Feed the start of an XML part to defusedxml: any DTD, entity or external reference is refused."""
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(prolog)
    except DefusedXmlException:
        raise FileError(_("This workbook contains XML declarations that spreadsheet programs never write"
                          " (entities or external references); it was refused for safety. Save it again from"
                          " Excel or WPS as .xlsx.")) from None
    except Exception:  # noqa: BLE001 - a cut-off prolog is expected here; calamine reports real damage
        pass


def _too_many_rows(count: int | str) -> FileError:
    return FileError(_("The sheet has %(n)s rows; at most %(max)s rows can be imported at once. Split it into"
                       " smaller files.") % {"n": count, "max": settings.ZHTJ_IMPORT_MAX_ROWS})


class _CalamineSheets:
    """A legacy .xls through python-calamine, with the streaming reader's interface."""

    def __init__(self, path: Path) -> None:
        self._book = CalamineWorkbook.from_path(str(path))
        self.sheet_names = list(self._book.sheet_names)

    def _sheet(self, name: str):
        try:
            return self._book.get_sheet_by_name(name)
        except PasswordError:
            raise _password_error() from None
        except (CalamineError, ValueError, OSError):
            raise _corrupt_error() from None

    def rows(self, name: str) -> Iterator[tuple[int, list[object]]]:
        # calamine's rows start at the sheet's first row, blank ones included: the index is the row number - 1.
        for index, cells in enumerate(self._sheet(name).iter_rows()):
            yield index + 1, cells

    def dimension(self, name: str) -> int | None:
        end = self._sheet(name).end
        return end[0] + 1 if end else None

    def close(self) -> None:
        pass


@dataclass
class SheetData:
    """The data sheet of a workbook: where the header is, which column holds what, and the rows below it."""

    sheet_name: str
    header_row: int  # the Excel row number of the header row
    header_cells: list[object]  # the header row as uploaded (for the failure workbook's layout)
    positions: dict[str, int]  # column key -> position in a row
    last_row: int | None  # the sheet's last row number as the file declares it (None: not declared)
    _sheets: object

    @property
    def max_data_rows(self) -> int:
        """At most this many data rows (blank ones included), as the file declares its extent; a file that
        declares none is counted once (a pass over the sheet without cleaning anything)."""
        if self.last_row is None:
            last = self.header_row
            try:
                for number, _cells in self._sheets.rows(self.sheet_name):
                    last = number
            except XlsxError:
                raise _corrupt_error() from None
            self.last_row = last
        return max(self.last_row - self.header_row, 0)

    def iter_rows(self) -> Iterator[tuple[int, list[object]]]:
        """(Excel row number, cells) for every non-blank row below the header, the help row skipped.

        The row limit is enforced here too, for files that declare no extent (or a false one).
        """
        helps = help_texts()
        header_row = self.header_row
        limit = settings.ZHTJ_IMPORT_MAX_ROWS
        count = 0
        try:
            for number, cells in self._sheets.rows(self.sheet_name):
                if number <= header_row:
                    continue
                # Skip blank rows (also formatted-but-empty ones and cells holding only spaces) and the
                # template's help row; stop looking at a row at its first real value.
                skip = True
                for cell in cells:
                    if cell is None or cell == "":
                        continue
                    if isinstance(cell, str):
                        stripped = cell.strip()
                        if not stripped or stripped in helps:
                            continue
                    skip = False
                    break
                if skip:
                    continue
                count += 1
                if count > limit:
                    raise _too_many_rows(_("more than %(max)s") % {"max": limit})
                yield number, list(cells)
        except XlsxError:
            raise _corrupt_error() from None


class Workbook:
    """An opened, checked workbook; use find_data() to locate the data sheet."""

    def __init__(self, path: str | Path, *, name: str = "", parse: bool = True) -> None:
        path = Path(path)
        size = path.stat().st_size
        if size > settings.ZHTJ_IMPORT_MAX_BYTES:
            raise FileError(_("The file is %(size)s MB; at most %(max)s MB can be imported at once. Split it into"
                              " smaller files.") % {"size": f"{size / 1048576:.1f}",
                                                    "max": f"{settings.ZHTJ_IMPORT_MAX_BYTES / 1048576:.0f}"})
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)  # enough for the signature and an encrypted workbook's marker
        self.format = _check_signature(head, name or path.name)
        if self.format == "xlsx":
            _check_xlsx_container(path)
        if not parse:
            return
        try:
            if self.format == "xlsx":
                self._sheets = XlsxBook(path, max_bytes=max_uncompressed_bytes())
            else:
                self._sheets = _CalamineSheets(path)
        except PasswordError:
            raise _password_error() from None
        except (XlsxError, CalamineError, ValueError, OSError, TypeError):
            if self.format == "xls":
                raise FileError(_("This .xls workbook is damaged or is not a real Excel file. Open it in Excel or"
                                  " WPS, save it as .xlsx, and upload the new file.")) from None
            raise _corrupt_error() from None

    def find_data(self, kind: str) -> SheetData:
        """The first sheet whose header row names the required columns of this kind."""
        best: SheetData | None = None
        for name in self._sheets.sheet_names:
            try:
                found = _find_header(self._sheets, name)
            except XlsxError:
                raise _corrupt_error() from None
            if found is None:
                continue
            if best is None or len(found.positions) > len(best.positions):
                best = found
            if "name" in found.positions and "id_number" in found.positions:
                best = found
                break
        data = best
        if data is None or "id_number" not in data.positions or "name" not in data.positions:
            raise FileError(_("No sheet in this workbook has the header row of the import template (columns such"
                              " as 姓名 and 身份证号码). Download the template and copy the data into it."))
        _check_kind(data, kind)
        missing = [c.header for c in required_columns(kind) if c.key not in data.positions]
        if missing:
            raise FileError(_("The sheet “%(sheet)s” has no column “%(col)s”. Add it (the template has every"
                              " column) and upload the file again.") % {"sheet": data.sheet_name,
                                                                         "col": "”, “".join(missing)})
        # Refused before reading when the file declares its extent (Excel and WPS do); otherwise iter_rows() stops
        # at the limit, rather than the sheet being read twice.
        if data.last_row is not None and data.max_data_rows > settings.ZHTJ_IMPORT_MAX_ROWS:
            raise _too_many_rows(data.max_data_rows)
        return data


def _find_header(sheets, name: str) -> SheetData | None:
    best: SheetData | None = None
    for seen, (number, cells) in enumerate(sheets.rows(name)):
        if seen >= HEADER_SEARCH_ROWS:
            break
        positions: dict[str, int] = {}
        duplicates: list[str] = []
        for pos, cell in enumerate(cells):
            key = match_header(cell) if isinstance(cell, str) else None
            if key is None:
                continue
            if key in positions:
                duplicates.append(BY_KEY[key].header)
                continue
            positions[key] = pos
        if len(positions) >= 2 and (best is None or len(positions) > len(best.positions)):
            if duplicates:
                raise FileError(_("The column “%(col)s” appears twice in the sheet “%(sheet)s” (perhaps in a hidden"
                                  " column). Keep one and upload the file again.") % {"col": duplicates[0],
                                                                                      "sheet": name})
            best = SheetData(sheet_name=name, header_row=number, header_cells=list(cells), positions=positions,
                             last_row=None, _sheets=sheets)
            if "name" in positions and "id_number" in positions:
                break
    if best is not None:
        best.last_row = sheets.dimension(name)
    return best


def _check_kind(data: SheetData, kind: str) -> None:
    """The member template in a committee, or the cadre template in a branch, is the wrong template."""
    member_only = {c.key for c in accepted_columns("member")} - {c.key for c in accepted_columns("cadre")}
    has_member_columns = bool(member_only & data.positions.keys())
    if kind == "cadre" and has_member_columns:
        raise FileError(_("This is the member template (it has columns such as 入团年月 and 民族). Members are"
                          " imported by their branch; this organization imports its own cadres with the cadre"
                          " template: download it on this page."))
    if kind == "member" and not has_member_columns and "position" in data.positions:
        raise FileError(_("This is the cadre template. A branch imports its members with the member template"
                          " (it also has the cadre-post columns): download it on this page."))
