"""Opening an uploaded workbook safely and finding its data: the sheet and header row are found by the
column names, so instruction sheets, merged title rows, extra and hidden columns and blank rows are fine.

Every problem with the file as a whole raises FileError with one sentence a branch admin understands.
Checks run before the spreadsheet is parsed: the size here, then (in the spreadsheets package) the file
signature, a zip's declared uncompressed size (zip bombs), XML document type declarations (entity expansion,
external entities; checked with defusedxml) and an .xls's extent; then the sheet's extent (row limit). An
.xlsx sheet is streamed row by row (spreadsheets.xlsx_stream), so memory does not grow with the file; a
legacy .xls (at most 65,536 rows by its format) is read by python-calamine.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from spreadsheets.checks import FileError, corrupt_error
from spreadsheets.workbook import check_container, open_sheets, sniff
from spreadsheets.xlsx_stream import XlsxError

from .columns import BY_KEY, accepted_columns, help_texts, match_header, required_columns

__all__ = ["FileError", "SheetData", "Workbook"]

# How far down a sheet the header row may be (below title rows and notes).
HEADER_SEARCH_ROWS = 30


def max_uncompressed_bytes() -> int:
    return getattr(settings, "ZHTJ_IMPORT_MAX_UNCOMPRESSED_BYTES", 20 * settings.ZHTJ_IMPORT_MAX_BYTES)


def _too_many_rows(count: int | str) -> FileError:
    return FileError(_("The sheet has %(n)s rows; at most %(max)s rows can be imported at once. Split it into"
                       " smaller files.") % {"n": count, "max": settings.ZHTJ_IMPORT_MAX_ROWS})


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
                raise corrupt_error() from None
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
            raise corrupt_error() from None


class Workbook:
    """An opened, checked workbook; use find_data() to locate the data sheet."""

    def __init__(self, path: str | Path, *, name: str = "", parse: bool = True) -> None:
        path = Path(path)
        size = path.stat().st_size
        if size > settings.ZHTJ_IMPORT_MAX_BYTES:
            raise FileError(_("The file is %(size)s MB; at most %(max)s MB can be imported at once. Split it into"
                              " smaller files.") % {"size": f"{size / 1048576:.1f}",
                                                    "max": f"{settings.ZHTJ_IMPORT_MAX_BYTES / 1048576:.0f}"})
        self.format = sniff(path, name=name)
        check_container(path, self.format, max_uncompressed=max_uncompressed_bytes())
        if not parse:
            return
        self._sheets = open_sheets(path, self.format, max_uncompressed=max_uncompressed_bytes())

    def find_data(self, kind: str) -> SheetData:
        """The first visible sheet whose header row names the required columns of this kind."""
        hidden = self._sheets.hidden_sheets
        data = self._best_sheet([name for name in self._sheets.sheet_names if name not in hidden])
        if data is None or "id_number" not in data.positions or "name" not in data.positions:
            # Hidden sheets are never imported (their rows would go in unseen); say so when one has the data.
            in_hidden = self._best_sheet([name for name in self._sheets.sheet_names if name in hidden])
            if in_hidden is not None and {"id_number", "name"} <= in_hidden.positions.keys():
                raise FileError(_("The sheet “%(sheet)s” has the header row of the import template but is hidden,"
                                  " and hidden sheets are never imported. Unhide it in Excel or WPS (right-click a"
                                  " sheet tab, Unhide), or copy its rows into a visible sheet, then upload the file"
                                  " again.") % {"sheet": in_hidden.sheet_name})
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


    def _best_sheet(self, names: list[str]) -> SheetData | None:
        """The first of these sheets with both 姓名 and 身份证号码 in its header, else the one with most columns."""
        best: SheetData | None = None
        for name in names:
            try:
                found = _find_header(self._sheets, name)
            except XlsxError:
                raise corrupt_error() from None
            if found is None:
                continue
            if "name" in found.positions and "id_number" in found.positions:
                return found
            if best is None or len(found.positions) > len(best.positions):
                best = found
        return best


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
