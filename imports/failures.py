"""The failure workbook: the failed rows as uploaded, in the same column layout, plus a reason column. Each bad
cell is highlighted and carries its reason as a comment, so the admin fixes the cells and uploads the file again.

Written with openpyxl's write-only mode (rows stream to disk; memory stays flat). Every cell is written as text
in a text-formatted cell, so Excel cannot mangle ID numbers again and a value such as "=1+2" stays text rather
than becoming a formula.
"""

import contextlib
import copy
import datetime as dt
import re
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from .validation import Row

# Characters XML 1.0 cannot hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
REASON_FILL = PatternFill("solid", fgColor="FFF2CC")
YEAR_MONTH_KEYS = {"joined_on", "since"}


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


class FailureWorkbook:
    def __init__(self, path: Path, *, sheet_name: str, header_cells: list[object], positions: dict[str, int]) -> None:
        self.path = path
        self.count = 0
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=(sheet_name or "Sheet1")[:31])
        self._positions = positions
        self._key_at = {pos: key for key, pos in positions.items()}
        self._width = max(len(header_cells), max(positions.values(), default=0) + 1)
        self._sheet.freeze_panes = "A2"
        for index in range(self._width + 1):
            dimension = self._sheet.column_dimensions[_letter(index)]
            dimension.width = 40 if index == self._width else 16
            dimension.number_format = "@"  # what the admin types in to fix a cell stays text too
        # Styling a cell through openpyxl's setters costs a style-table lookup each; every cell here has one
        # of four styles, so each is built once and its style array copied onto the cells.
        self._styles = {
            "text": self._style(),
            "bad": self._style(fill=BAD_FILL, font=BAD_FONT),
            "reason": self._style(fill=REASON_FILL, alignment=Alignment(wrap_text=True, vertical="top")),
            "header": self._style(fill=HEADER_FILL, font=Font(bold=True)),
        }
        header = []
        for index in range(self._width):
            value = header_cells[index] if index < len(header_cells) else None
            header.append(self._cell(cell_as_text(value), "header"))
        header.append(self._cell(_("Failure reason"), "header"))
        self._sheet.append(header)

    def _style(self, **attrs) -> object:
        cell = WriteOnlyCell(self._sheet)
        cell.number_format = "@"
        for name, value in attrs.items():
            setattr(cell, name, value)
        return cell._style

    def _cell(self, value: str | None, style: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, value=value)
        if value is not None:
            cell.data_type = "s"  # "=SUM(...)", "+86…", "@x" stay text, never a formula
        cell._style = copy.copy(self._styles[style])
        return cell

    def add(self, row: Row) -> None:
        self.count += 1
        cells = []
        for index in range(self._width):
            value = row.cells[index] if index < len(row.cells) else None
            key = self._key_at.get(index)
            bad = key is not None and key in row.errors
            cell = self._cell(cell_as_text(value, year_month=key in YEAR_MONTH_KEYS), "bad" if bad else "text")
            if bad:
                comment = Comment(row.errors[key], "zhtj")
                comment.width, comment.height = 320, 120
                cell.comment = comment
            cells.append(cell)
        cells.append(self._cell(row.reason(), "reason"))
        self._sheet.append(cells)

    def save(self) -> Path | None:
        """Write the file; None (and no file) when no row failed."""
        if self.count == 0:
            self.discard()
            return None
        self._book.save(self.path)
        return self.path


    def discard(self) -> None:
        """Drop the sheet's temporary rows without writing a workbook."""
        # Nothing was written; a cleanup error here is irrelevant.
        with contextlib.suppress(Exception):
            self._sheet.close()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
