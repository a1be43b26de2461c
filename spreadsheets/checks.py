"""Checks on an uploaded file before any spreadsheet parser sees it, each failure one sentence for the user.

The file signature decides the format (never the file name); a zip's declared uncompressed size is checked
against a cap (zip bombs) and every XML part's prolog goes through defusedxml (DTDs, entities, external
references). A damaged container, whatever the exception zipfile or zlib raises for it, is "damaged".
"""

import zipfile
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.utils.translation import gettext as _

from zhtj.errors import UserError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Per zip member: a compression ratio above this on a large member is a zip bomb, not a spreadsheet.
MAX_COMPRESSION_RATIO = 200
PROLOG_BYTES = 4096
# The start of a file read for its signature; an encrypted .xlsx names its "EncryptedPackage" stream in it.
HEAD_BYTES = 4 * 1024 * 1024

IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"%PDF")


class FileError(UserError):
    """The file as a whole cannot be read; str(exc) is the user-facing sentence."""


def password_error() -> FileError:
    return FileError(_("This workbook is protected with a password. Open it, remove the password (save it"
                       " without encryption), then upload it again."))


def corrupt_error() -> FileError:
    return FileError(_("The workbook is damaged or incomplete (perhaps the upload or download was cut short)."
                       " Open it in Excel or WPS, save it again as .xlsx, and upload the new file."))


def corrupt_xls_error() -> FileError:
    return FileError(_("This .xls workbook is damaged or is not a real Excel file. Open it in Excel or"
                       " WPS, save it as .xlsx, and upload the new file."))


def check_signature(data: bytes, name: str) -> str:
    """'xlsx' or 'xls' by content (never by the file name); FileError for anything else."""
    if not data:
        raise FileError(_("The file is empty. Choose the filled-in Excel workbook (.xlsx or .xls)."))
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        # An encrypted .xlsx is an OLE container holding an "EncryptedPackage" stream.
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data[:65536]:
            raise password_error()
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


def check_xlsx_container(path: Path, *, max_uncompressed: int) -> None:
    """Zip-level checks before any XML is parsed: total and per-member size, and no DTDs in the XML parts."""
    try:
        archive = zipfile.ZipFile(path)
    except Exception:  # noqa: BLE001 - a damaged central directory raises many kinds (struct, Unicode, zlib...)
        raise corrupt_error() from None
    with archive:
        infos = archive.infolist()
        # Part names as the reader looks them up: Excel matches them without regard to case, and some writers
        # use backslashes.
        names = {info.filename.replace("\\", "/").lower() for info in infos}
        if "[content_types].xml" not in names or not any(n.startswith("xl/") for n in names):
            if "word/document.xml" in names:
                raise FileError(_("This is a Word document, not an Excel workbook. Upload the filled-in template"
                                  " (.xlsx or .xls)."))
            raise FileError(_("This file is not an Excel workbook. Upload the filled-in template (.xlsx or .xls)."))
        total = sum(info.file_size for info in infos)
        if total > max_uncompressed or any(
            info.file_size > 10 * 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
            for info in infos
        ):
            raise FileError(_("This workbook unpacks to far more data than a member list can hold; it cannot be"
                              " imported. Split it into smaller files or use the template."))
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                try:
                    with archive.open(info) as part:
                        prolog = part.read(PROLOG_BYTES)
                except Exception:  # noqa: BLE001 - zlib.error, BadZipFile, an encrypted member (RuntimeError)...
                    raise corrupt_error() from None
                check_prolog(prolog)


def check_prolog(prolog: bytes) -> None:
    """Feed the start of an XML part to defusedxml: any DTD, entity or external reference is refused."""
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(prolog)
    except DefusedXmlException:
        raise FileError(_("This workbook contains XML declarations that spreadsheet programs never write"
                          " (entities or external references); it was refused for safety. Save it again from"
                          " Excel or WPS as .xlsx.")) from None
    except Exception:  # noqa: BLE001 - a cut-off prolog is expected here; the reader reports real damage
        pass
