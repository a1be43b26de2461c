"""Opening an uploaded workbook: the checks, then the reader for its format, behind one interface.

The reader has sheet_names (worksheets in workbook order; chart sheets and other kinds left out),
hidden_sheets (names of hidden and very hidden ones), rows(name) -> (row number, cells) and dimension(name).
Every problem raises checks.FileError with one sentence for the user.
"""

import logging
from pathlib import Path

from .checks import HEAD_BYTES, FileError, check_signature, check_xlsx_container, corrupt_error, corrupt_xls_error
from .xls import XlsSheets, check_xls_extent
from .xlsx_stream import XlsxBook, XlsxError

log = logging.getLogger(__name__)


def sniff(path: Path, *, name: str = "") -> str:
    """'xlsx' or 'xls' by the file's content; FileError for anything else."""
    with Path(path).open("rb") as fh:
        head = fh.read(HEAD_BYTES)  # enough for the signature and an encrypted workbook's marker
    return check_signature(head, name or Path(path).name)


def check_container(path: Path, fmt: str, *, max_uncompressed: int) -> None:
    """The checks that need no spreadsheet parser (an .xlsx's zip sizes and XML prologs)."""
    if fmt == "xlsx":
        check_xlsx_container(path, max_uncompressed=max_uncompressed)


def open_sheets(path: Path, fmt: str, *, max_uncompressed: int) -> XlsxBook | XlsSheets:
    """The reader for a file that passed check_container."""
    if fmt == "xls":
        check_xls_extent(path)
        return XlsSheets(path)
    try:
        return XlsxBook(path, max_bytes=max_uncompressed)
    except XlsxError as exc:
        log.info("unreadable .xlsx: %s", exc)
        raise corrupt_error() from None


def open_workbook(path: str | Path, *, name: str = "", max_uncompressed: int) -> XlsxBook | XlsSheets:
    """sniff + check_container + open_sheets."""
    path = Path(path)
    fmt = sniff(path, name=name)
    check_container(path, fmt, max_uncompressed=max_uncompressed)
    return open_sheets(path, fmt, max_uncompressed=max_uncompressed)


__all__ = ["FileError", "check_container", "corrupt_error", "corrupt_xls_error", "open_sheets", "open_workbook",
           "sniff"]
