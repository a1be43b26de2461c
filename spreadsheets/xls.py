"""A legacy .xls workbook, read by python-calamine only after its extent has been measured.

calamine reads every sheet of an .xls into a dense grid when the workbook is opened: memory is the area from
the first to the last cell of each sheet (about 32 bytes a cell, twice that once a sheet is fetched), however
few cells there are. Two cells at A1 and IV65536 took 1 GB; a damaged cell record pointing at column 65,535
would ask for far more and abort the process. So the BIFF records of the file's Workbook stream are walked
first (a pass over the record headers, no cell values decoded) and a workbook whose sheets span more than
MAX_CELLS is refused before calamine sees it.
"""

import contextlib
import io
import struct
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from .checks import FileError, corrupt_xls_error, password_error

# 65,536 rows (the format's limit) x 32 columns, over all sheets: ~70 MB in calamine at the most.
MAX_CELLS = 65536 * 32

BOF = 0x0809
DIMENSIONS = 0x0200
# Records that start with (row, column) as two 16-bit numbers: FORMULA, BLANK, NUMBER, LABEL, BOOLERR, RK,
# LABELSST, RSTRING, and the BIFF3/4 FORMULA.
CELL_RECORDS = frozenset([0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6, 0x0206, 0x0406])
# (row, first column, ..., last column): MULRK, MULBLANK.
MULTI_CELL_RECORDS = frozenset([0x00BD, 0x00BE])

_HEADER = struct.Struct("<HH")


def _too_large(rows: int, columns: int) -> FileError:
    return FileError(_("This .xls workbook spans %(rows)s rows by %(columns)s columns, more than can be read"
                       " safely. Delete the empty rows and columns around the data (or open it in Excel or WPS and"
                       " save it as .xlsx), then upload it again.") % {"rows": rows, "columns": columns})


def _workbook_stream(data: bytes) -> bytes:
    from xlrd.compdoc import CompDoc, CompDocError

    try:
        doc = CompDoc(data, logfile=io.StringIO())
        for name in ("Workbook", "Book"):
            mem, base, length = doc.locate_named_stream(name)
            if mem is not None:
                return bytes(mem[base:base + length])
    except (CompDocError, struct.error, IndexError, ValueError, OverflowError, MemoryError, RecursionError):
        raise corrupt_xls_error() from None
    raise corrupt_xls_error()


def check_xls_extent(path: Path, *, max_cells: int = MAX_CELLS) -> None:
    """FileError when the sheets' cells (and declared dimensions) span more than max_cells in all."""
    stream = _workbook_stream(Path(path).read_bytes())
    total = 0
    spans: list[tuple[int, int]] = []  # (rows, columns) of each sheet seen

    def sheet_area(first_row, last_row, first_col, last_col) -> None:
        nonlocal total
        if last_row >= first_row:
            rows, columns = last_row - first_row + 1, last_col - first_col + 1
            spans.append((rows, columns))
            total += rows * columns

    first_row = first_col = 1 << 32
    last_row = last_col = -1
    declared = 0
    position, end = 0, len(stream)
    unpack = _HEADER.unpack_from
    while position + 4 <= end:
        kind, size = unpack(stream, position)
        body = position + 4
        position = body + size
        if kind in CELL_RECORDS:
            if size < 4:
                continue
            row, column = unpack(stream, body)
            last_column = column
        elif kind in MULTI_CELL_RECORDS:
            if size < 6 or position > end:
                continue
            row, column = unpack(stream, body)
            (last_column,) = struct.unpack_from("<H", stream, position - 2)
            last_column = max(column, last_column)
        elif kind == BOF:
            sheet_area(first_row, last_row, first_col, last_col)
            first_row = first_col = 1 << 32
            last_row = last_col = -1
            continue
        elif kind == DIMENSIONS:
            # BIFF8: first row, last row + 1 (32 bits), first column, last column + 1; BIFF5: all 16 bits.
            fields = "<IIHH" if size >= 12 else "<HHHH"
            if size >= struct.calcsize(fields) and position <= end:
                row0, row1, col0, col1 = struct.unpack_from(fields, stream, body)
                declared = max(declared, max(row1 - row0, 0) * max(col1 - col0, 0))
                if declared > max_cells:
                    raise _too_large(max(row1 - row0, 0), max(col1 - col0, 0))
            continue
        else:
            continue
        if row < first_row:
            first_row = row
        if row > last_row:
            last_row = row
        if column < first_col:
            first_col = column
        if last_column > last_col:
            last_col = last_column
    sheet_area(first_row, last_row, first_col, last_col)
    if total > max_cells:
        rows, columns = max(spans, key=lambda span: span[0] * span[1])
        raise _too_large(rows, columns)


def _is_panic(exc: BaseException) -> bool:
    # A Rust panic inside calamine arrives as pyo3's PanicException, a BaseException.
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def _calamine_errors() -> Iterator[None]:
    """Opening a workbook or a sheet: a password's FileError, any failure (a Rust panic too) the damaged-file one.

    Other BaseExceptions (KeyboardInterrupt, SystemExit, a generator's exit) pass through."""
    try:
        yield
    except PasswordError:
        raise password_error() from None
    except BaseException as exc:
        if isinstance(exc, Exception) or _is_panic(exc):
            raise corrupt_xls_error() from None
        raise


class XlsSheets:
    """A legacy .xls through python-calamine, with the streaming .xlsx reader's interface (sheet_names,
    hidden_sheets, rows(name), dimension(name)); call check_xls_extent first."""

    def __init__(self, path: Path) -> None:
        with _calamine_errors():
            self._book = CalamineWorkbook.from_path(str(path))
            sheets = self._book.sheets_metadata
        self.sheet_names = [s.name for s in sheets if s.typ == SheetTypeEnum.WorkSheet]
        self.hidden_sheets = {s.name for s in sheets if s.visible != SheetVisibleEnum.Visible}

    def _sheet(self, name: str):
        with _calamine_errors():
            return self._book.get_sheet_by_name(name)

    def rows(self, name: str) -> Iterator[tuple[int, list[object]]]:
        # calamine's rows start at the sheet's first row, blank ones included: the index is the row number - 1.
        try:
            for index, cells in enumerate(self._sheet(name).iter_rows()):
                yield index + 1, cells
        except (CalamineError, ValueError, OSError):
            raise corrupt_xls_error() from None

    def dimension(self, name: str) -> int | None:
        end = self._sheet(name).end
        return end[0] + 1 if end else None

    def close(self) -> None:
        pass
