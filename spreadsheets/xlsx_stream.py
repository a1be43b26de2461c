"""A streaming reader for the cells of an .xlsx worksheet whose memory does not grow with the sheet.

python-calamine parses a whole sheet into memory (about 120 MB for 100,000 rows x 10 columns). This module
reads the sheet's zip member in chunks, cuts the decompressed bytes after the last complete row and scans the
rows with regular expressions over bytes, so only one chunk and the current row are held. A row shaped like
a recent one (same cells, attributes and kinds of content) is read by one match with a group per cell;
other rows token by token (a token per cell). Shared strings, which cells refer to by index, are kept as one
UTF-8 bytearray plus an array of offsets.

Cell values match what python-calamine 0.9 returns for the same cell (numbers as float, dates by the cell's
number format as date/datetime/time/timedelta, booleans, strings with XML entities and Excel's _xHHHH_
escapes decoded and line ends read as XML reads them (CR LF and a lone CR are LF), error cells as ""), with
one difference: calamine trims leading and trailing whitespace of a <t> without xml:space="preserve", which
this reader keeps (as XML says, and as openpyxl does). Only worksheets are listed (chart sheets and other
kinds have no cells); hidden ones are named in hidden_sheets. Part names are matched as Excel matches them:
without regard to case, and with backslashes read as slashes.

The scanner is not a validating XML parser: it checks the structure it relies on (nothing but rows and
whitespace inside sheetData, nothing but cells in a row, every row closed,
unusual cell content well formed (read by expat), known entities only, valid UTF-8, parseable numbers) and
raises XlsxError for anything else it cannot read. No DTD is accepted anywhere and no
entity other than the five predefined ones and character references is expanded.
"""

import collections
import contextlib
import datetime as dt
import functools
import itertools
import math
import operator
import os
import posixpath
import re
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from xml.parsers import expat

CHUNK_BYTES = 256 * 1024
DEFAULT_MAX_BYTES = 600 * 1024 * 1024
# Decoding a string that holds character references costs a Python call; generated files repeat the same
# few values, so decoded values are remembered (bounded: the cache is dropped when it fills).
TEXT_CACHE_SIZE = 4096

REL_OFFICE_DOCUMENT = "/officeDocument"
REL_SHARED_STRINGS = "/sharedStrings"
REL_STYLES = "/styles"
REL_WORKSHEET = "/worksheet"

# Built-in number formats that calamine reads as dates (incl. the CJK ones) and as durations.
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)])
BUILTIN_DURATION_FORMATS = frozenset([46])
KIND_NUMBER, KIND_DATE, KIND_DURATION = 0, 1, 2
# What the attributes of a cell (t and the style's number format) make of its value; compared with "is".
CODE_NUMBER = ("n", KIND_NUMBER)
CODE_INLINE = ("inlineStr", KIND_NUMBER)
CODE_SHARED = ("s", KIND_NUMBER)

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
DAYS_1900_TO_1904 = 1462
MS_PER_DAY = 86_400_000


class XlsxError(Exception):
    """The workbook is damaged or uses something this reader does not support.

    Not a zhtj.errors.UserError: the message is for the log (English, naming parts of the file); readers
    turn it into spreadsheets.checks.corrupt_error(), the sentence for the user."""


# -- the sheet scanner ------------------------------------------------------------------------------------------

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix (the .NET OpenXML SDK writes x:)


@functools.lru_cache(maxsize=8)
def _fast_token_regex(prefix: bytes) -> re.Pattern:
    """The same groups as _token_regex, for the cells data files are made of (r first, then <v> or
    <is><t>, or empty); about 20% faster. A block with anything else has a stray token and is scanned
    again with _token_regex."""
    p = _prefix_pattern(prefix)
    return re.compile(
        rb"<" + p + rb'(?:c r="([A-Z]{1,3})[0-9]*"([^>/]*)(?:/>|>(?:'
        rb"<" + p + rb"v>([^<]*)</" + p + rb"v>"
        rb"|<" + p + rb"is><" + p + rb"t>([^<]*)</" + p + rb"t></" + p + rb"is>|()"
        rb")</" + p + rb"c>))"
        rb"|<(/?" + p + rb"row)((?:\s[^>/]*)?)(/?)>"
        rb"|(\S)"
    )


def _prefix_pattern(prefix: bytes) -> bytes:
    # With a prefix on the container, its children are matched with or without it (calamine ignores
    # namespaces, and a hand-made file may mix them); without one, exactly so (no backtracking).
    return b"(?:" + re.escape(prefix) + b")?" if prefix else b""


@functools.lru_cache(maxsize=8)
def _token_regex(prefix: bytes) -> re.Pattern:
    """One token per row start, row end, cell, or stray character, for findall over a block of whole rows.

    Built for the sheet's namespace prefix (b"" or b"x:"), so no generic prefix pattern is tried at every tag.
    The usual cell shapes are matched whole (<v>value</v> after an optional <f>, <is><t>text</t></is>), so
    their value comes out of the regex; any other content is captured and read by expat. r is captured when
    it is the first attribute (every writer seen puts it first); the other attributes then repeat from cell
    to cell and their parse is cached. Anything that is not one of these tokens or whitespace falls into the
    last group, so a malformed sheet is noticed although findall skips what it cannot match.
    """
    p = _prefix_pattern(prefix)
    return re.compile(
        rb"<" + p + rb'(?:c(?: r="([A-Z]{1,3})[0-9]*")?((?:\s[^>/]*)?)(?:/>|>(?:'
        rb"(?:<" + p + rb"f\b[^>/]*(?:/>|>[^<]*</" + p + rb"f>))?<" + p + rb"v>([^<]*)</" + p + rb"v>"
        rb"|<" + p + rb"is><" + p + rb"t>([^<]*)</" + p + rb"t></" + p + rb"is>"
        rb"|((?:[^<]|<(?!/" + p + rb"c>))*)"
        rb")</" + p + rb"c>))"
        rb"|<(/?" + p + rb"row)((?:\s[^>/]*)?)(/?)>"
        rb"|(\S)"
    )


@functools.lru_cache(maxsize=8)
def _si_regex(prefix: bytes) -> re.Pattern:
    """One token per shared string: a plain <t> (with or without attributes), other content (rich text,
    phonetic runs, <t/>) for expat, or a stray character (malformed)."""
    p = _prefix_pattern(prefix)
    return re.compile(
        rb"<" + p + rb"si>(?:<" + p + rb"t>([^<]*)</" + p + rb"t>|<" + p + rb"t\s[^>/]*>([^<]*)</" + p + rb"t>"
        rb"|((?:[^<]|<(?!/" + p + rb"si>))*))</" + p + rb"si>"
        rb"|<" + p + rb"si\s*/>"
        rb"|(\S)"
    )


@functools.lru_cache(maxsize=8)
def _unnumbered_row_regex(prefix: bytes) -> re.Pattern:
    """A row start tag without an r attribute."""
    p = _prefix_pattern(prefix)
    return re.compile(rb"<" + p + rb"row(?![^>]*\sr\s*=)[\s/>]")


@functools.lru_cache(maxsize=8)
def _row_with_numbered_cell_regex(prefix: bytes) -> re.Pattern:
    """A row start tag, up to the reference of its first cell when that cell has one."""
    p = _prefix_pattern(prefix)
    return re.compile(rb"<(" + p + rb"row)((?:\s[^>/]*)?)>(\s*<" + p + rb"c\s[^>]*?\br\s*=\s*[\"']\$?[A-Za-z]{1,3}"
                      rb"\$?([0-9]+)[\"'])")


def _number_rows(segment: bytes, prefix: bytes) -> bytes:
    """The rows without r that start with a cell with a reference, marked with that reference's row number
    (_cellrow, which rows() reads): calamine places cells by their own references, so counting rows would shift
    every row after a gap."""
    def number(match: re.Match) -> bytes:
        if _ROW_R.search(match[2]):
            return match[0]
        return b"<" + match[1] + b' _cellrow="' + match[4] + b'"' + match[2] + b">" + match[3]
    return _row_with_numbered_cell_regex(prefix).sub(number, segment)


_STRAY = operator.itemgetter(8)
_SI_PLAIN, _SI_SPACED = operator.itemgetter(0), operator.itemgetter(1)
_SI_RICH, _SI_STRAY = operator.itemgetter(2), operator.itemgetter(3)
_ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_ROW_R = re.compile(rb'\sr\s*=\s*["\']([0-9]+)["\']')
_CELL_ROW = re.compile(rb'\s_cellrow="([0-9]+)"')
_ATTRS_OK = re.compile(rb"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*""")
_SHEETDATA_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")
_DIMENSION = re.compile(rb"<" + _P + rb'dimension\b[^>]*?\sref\s*=\s*["\']([^"\']*)["\']')
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY = re.compile(rb"&(?:#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6})|(amp|lt|gt|quot|apos));")
_ENTITY_NAMES = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}
_NUMERIC_RUN = re.compile(rb"(?:&#[0-9]{1,7};)+")
_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")
_TIME_FORMATS = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M")


def _unescape_x(text: str) -> str:
    """Excel's _xHHHH_ escapes as calamine decodes them (lowercase x; surrogate halves are left as they are)."""
    def replace(match: re.Match) -> str:
        code = int(match[1], 16)
        if 0xD800 <= code <= 0xDFFF:
            return match[0]
        return chr(code)
    return _X_ESCAPE.sub(replace, text)


def _replace_entity(match: re.Match) -> bytes:
    if match[3] is not None:
        return _ENTITY_NAMES[match[3]].encode()
    code = int(match[1]) if match[1] is not None else int(match[2], 16)
    try:
        return chr(code).encode("utf-8", "surrogatepass")
    except (ValueError, OverflowError):
        raise XlsxError(f"invalid character reference {match[0]!r}") from None


def _decode_text(raw: bytes) -> str:
    """XML character data (bytes, UTF-8, entities still escaped) -> str with entities and _xHHHH_ decoded."""
    if _NUMERIC_RUN.fullmatch(raw):
        # Text written entirely as decimal references (openpyxl writes CJK text so): no callback per character.
        text = "".join(map(chr, map(int, raw[2:-1].split(b";&#"))))
        return _unescape_x(text) if "_x" in text else text
    try:
        if b"&" in raw:
            decoded, count = _ENTITY.subn(_replace_entity, raw)
            if count != raw.count(b"&"):
                raise XlsxError("an unknown XML entity (only &amp; &lt; &gt; &quot; &apos; and &#..; are allowed)")
            text = decoded.decode("utf-8", "surrogatepass")
        else:
            text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise XlsxError("text that is not valid UTF-8") from None
    if "_x" in text:
        text = _unescape_x(text)
    return text


def _excel_datetime(value: float, date1904: bool):
    """A serial date as python-calamine returns it: time below 1, date when whole, datetime otherwise, and the
    number itself past year 9999."""
    days = value + DAYS_1900_TO_1904 if date1904 else value
    if days < 60:
        days += 1.0  # Excel's phantom 1900-02-29: serials before it are one day later than the epoch says
    ms = days * MS_PER_DAY
    ms = math.floor(ms + 0.5) if ms >= 0 else -math.floor(-ms + 0.5)  # Rust's round(): half away from zero
    if value < 1.0:
        ms %= MS_PER_DAY
        return (dt.datetime.min + dt.timedelta(milliseconds=ms)).time()
    try:
        moment = EXCEL_EPOCH + dt.timedelta(milliseconds=ms)
    except OverflowError:
        return value
    if value == int(value):
        return moment.date()
    return moment


def _excel_duration(value: float):
    ms = value * MS_PER_DAY
    ms = math.floor(ms + 0.5) if ms >= 0 else -math.floor(-ms + 0.5)
    try:
        return dt.timedelta(milliseconds=ms)
    except OverflowError:
        return value


def _iso_value(text: str):
    """A t="d" cell: calamine's parse of the ISO 8601 text, or the text when it does not parse."""
    for fmt in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).time()
        except ValueError:
            pass
    return text


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ch - 64
    return index - 1


def format_kind(code: str) -> int:
    """KIND_DATE, KIND_DURATION or KIND_NUMBER for a custom number format code, by calamine's rules: the first
    section only; quoted text, backslash- and underscore-escaped characters and [..] brackets don't count,
    except [h] [m] [s] (elapsed time: a duration); d m h y s, or a/p followed by m / p, make a date."""
    escaped = quoted = ampm = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\":
            escaped = True
        elif quoted:
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return KIND_NUMBER
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return KIND_DURATION
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and not ampm and ch in "aA":
            ampm = True
        elif brackets == 0 and (ch in "pm/PM" if ampm else ch in "dmhysDMHYS"):
            return KIND_DATE
        elif hms and ch.lower() == prev.lower():
            pass
        else:
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return KIND_NUMBER


class _SpilledText:
    """UTF-8 bytes kept in an (unlinked) temporary file and sliced like a bytearray, through a small LRU cache of
    64 KB blocks: cells refer to nearby strings (a table is numbered in order of first use) and to a few common
    ones again and again, so nearly every slice is a cache hit. Reads use os.pread, which moves no file
    position: a forked process may read the same file."""

    BLOCK_BITS = 16
    CACHED_BLOCKS = 32  # 2 MB

    def __init__(self, file) -> None:
        self._file = file  # kept open: it is the data
        self._fd = file.fileno()
        self._blocks: collections.OrderedDict[int, bytes] = collections.OrderedDict()

    def __getitem__(self, key: slice) -> bytes:
        start, stop = key.start, key.stop
        if stop <= start:
            return b""
        bits = self.BLOCK_BITS
        block = start >> bits
        if (stop - 1) >> bits != block:  # spans two blocks: rare, read it directly
            return os.pread(self._fd, stop - start, start)
        blocks = self._blocks
        data = blocks.get(block)
        if data is None:
            data = blocks[block] = os.pread(self._fd, 1 << bits, block << bits)
            if len(blocks) > self.CACHED_BLOCKS:
                blocks.popitem(last=False)
        else:
            blocks.move_to_end(block)
        offset = block << bits
        return data[start - offset:stop - offset]


class _SharedStrings:
    """The shared string table, compact: all strings as UTF-8 bytes, and offsets where string i is
    data[offsets[i]:offsets[i + 1]] (decoded on access). Up to SPILL_BYTES of text stay in memory (a
    bytearray); a larger table goes to a temporary file (_SpilledText), so memory does not grow with it:
    only the offsets stay, 8 bytes a string."""

    SPILL_BYTES = 2 * 1024 * 1024

    def __init__(self) -> None:
        self.data: bytearray | _SpilledText = bytearray()
        self.offsets = array("Q", [0])
        self._file = None

    def add(self, raw: bytes) -> None:
        self.data += raw
        self.offsets.append(self.offsets[-1] + len(raw))
        if len(self.data) >= self.SPILL_BYTES:
            self._spill()

    def add_many(self, raws: list[bytes]) -> None:
        self.offsets.extend(itertools.islice(itertools.accumulate(map(len, raws), initial=self.offsets[-1]), 1, None))
        self.data += b"".join(raws)
        if len(self.data) >= self.SPILL_BYTES:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - the table's storage until close()
        self._file.write(self.data)
        self.data = bytearray()

    def finish(self) -> None:
        """Loading is over: a spilled table is read from its file from now on."""
        if self._file is not None:
            self._spill()
            self._file.flush()
            self.data = _SpilledText(self._file)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        offsets = self.offsets
        return self.data[offsets[index]:offsets[index + 1]].decode()


class _Element:
    __slots__ = ("name", "attrs")

    def __init__(self, name: str, attrs: dict[str, str]) -> None:
        self.name = name
        self.attrs = attrs


def _local(name: str) -> str:
    # expat with namespace_separator=" " gives "uri local"; attributes without a namespace are plain.
    return name.rpartition(" ")[2]


def _refuse_dtd(*_args) -> None:
    raise XlsxError("the workbook contains a DTD (document type declaration); refused for safety")


def _new_expat():
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _fold(name: str) -> str:
    return name.replace("\\", "/").lower()


class XlsxBook:
    """An .xlsx workbook opened from its path; read each sheet's rows with rows(name).

    sheet_names lists the worksheets in workbook order (chart sheets and other kinds are left out: they hold no
    cells); hidden_sheets names those of them that are hidden or very hidden."""

    def __init__(self, path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """max_bytes caps the decompressed bytes of every part read through this book, all reads counted."""
        self.max_bytes = max_bytes
        self._read_bytes = 0
        self._zip = None
        self._shared = _SharedStrings()
        try:
            self._zip = zipfile.ZipFile(path)
            self._names = set(self._zip.namelist())
            # Part names as Excel matches them: without regard to case, and with backslashes taken for slashes
            # (some writers store xl\workbook.xml); an exact name wins.
            self._folded: dict[str, str] = {}
            for member in self._zip.namelist():
                self._folded.setdefault(_fold(member), member)
            self._open()
        except XlsxError:
            self.close()
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, KeyError) as exc:
            self.close()
            raise XlsxError(f"damaged workbook: {exc}") from None

    # -- parts ---------------------------------------------------------------------------------------------------

    def _member(self, path: str) -> str | None:
        """The zip member stored for a part path (as relationships name it), or None."""
        if path in self._names:
            return path
        return self._folded.get(_fold(path))

    def _chunks(self, member: str) -> Iterator[bytes]:
        """The decompressed bytes of a zip member in chunks, counted against max_bytes."""
        try:
            with self._zip.open(member) as part:
                while True:
                    chunk = part.read(CHUNK_BYTES)
                    if not chunk:
                        return
                    self._read_bytes += len(chunk)
                    if self._read_bytes > self.max_bytes:
                        raise XlsxError(f"the workbook unpacks to more than {self.max_bytes} bytes")
                    yield chunk
        except XlsxError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, KeyError) as exc:
            raise XlsxError(f"damaged zip member {member}: {exc}") from None

    def _parse_part(self, member: str, start=None, end=None) -> None:
        """Run a small (or streamed) XML part through expat, DTDs refused; start(local, attrs, stack) and
        end(local, element, stack) are called with local names."""
        parser = _new_expat()
        stack: list[_Element] = []

        def on_start(name, attrs):
            element = _Element(_local(name), {_local(k): v for k, v in attrs.items()} if attrs else {})
            stack.append(element)
            if start is not None:
                start(element.name, element.attrs, stack)

        def on_end(_name):
            element = stack.pop()
            if end is not None:
                end(element.name, element, stack)

        parser.StartElementHandler = on_start
        parser.EndElementHandler = on_end
        try:
            for chunk in self._chunks(member):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise XlsxError(f"malformed XML in {member}: {exc}") from None

    def _rels(self, member: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, zip member) for the part `member`."""
        folder, base = posixpath.split(member)
        rels_member = posixpath.join(folder, "_rels", base + ".rels")
        found: dict[str, tuple[str, str]] = {}
        rels_member = self._member(rels_member)
        if rels_member is None:
            return found

        def start(name, attrs, _stack):
            if name == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

        self._parse_part(rels_member, start=start)
        return found

    def _open(self) -> None:
        workbook = next((path for kind, path in self._rels("").values() if kind.endswith(REL_OFFICE_DOCUMENT)),
                        "xl/workbook.xml")
        if self._member(workbook) is None:
            raise XlsxError("the workbook part (xl/workbook.xml) is missing")
        rels = self._rels(workbook)
        self._sheet_parts: dict[str, str] = {}
        self.sheet_names: list[str] = []
        self.hidden_sheets: set[str] = set()
        self.date1904 = False

        def start(name, attrs, _stack):
            if name == "sheet":
                sheet_name = attrs.get("name", "")
                rel = rels.get(attrs.get("id", ""))
                if rel is not None and not rel[0].endswith(REL_WORKSHEET):
                    return  # a chart sheet, dialog sheet or macro sheet: no cells to read
                self.sheet_names.append(sheet_name)
                if attrs.get("state") in ("hidden", "veryHidden"):
                    self.hidden_sheets.add(sheet_name)
                if rel is not None:
                    self._sheet_parts[sheet_name] = rel[1]
            elif name == "workbookPr":
                self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")

        self._parse_part(self._member(workbook), start=start)
        folder = posixpath.dirname(workbook)
        shared = next((p for k, p in rels.values() if k.endswith(REL_SHARED_STRINGS)),
                      posixpath.join(folder, "sharedStrings.xml"))
        styles = next((p for k, p in rels.values() if k.endswith(REL_STYLES)), posixpath.join(folder, "styles.xml"))
        shared, styles = self._member(shared), self._member(styles)
        self._shared = self._load_shared_strings(shared) if shared is not None else _SharedStrings()
        self._style_kinds = self._load_styles(styles) if styles is not None else []

    def _load_shared_strings(self, member: str) -> _SharedStrings:
        """<si> texts: plain <t> (kept as the file's UTF-8 bytes when nothing needs decoding), or rich-text
        runs concatenated with phonetic runs (<rPh>) left out."""
        table = _SharedStrings()
        prefix: list[bytes] = []
        findall = None
        for block in self._blocks(member, prefix, b"sst", b"si"):
            if findall is None:
                findall = _si_regex(prefix[0]).findall
            extension = block.find(b"<" + prefix[0] + b"extLst")
            if extension >= 0:
                block = block[:extension]  # extensions come after the last <si>
            tokens = findall(block)
            if (b"&" not in block and b"_x" not in block and not any(map(_SI_RICH, tokens))
                    and not any(map(_SI_STRAY, tokens))):
                # Plain strings only (the usual case): their bytes go in as they are, without a Python loop.
                table.add_many(list(map(bytes.__add__, map(_SI_PLAIN, tokens), map(_SI_SPACED, tokens))))
                continue
            for plain, spaced, rich, stray in tokens:
                if stray:
                    raise XlsxError(f"malformed shared strings XML after string {len(table)}")
                raw = plain or spaced
                if raw:
                    if b"&" in raw or b"_x" in raw:
                        raw = _decode_text(raw).encode("utf-8", "surrogatepass")
                elif rich:
                    text = "".join(_CellContent(rich, b"si").texts)
                    raw = (_unescape_x(text) if "_x" in text else text).encode("utf-8", "surrogatepass")
                table.add(raw)
            if extension >= 0:
                break
        table.finish()
        return table

    def _load_styles(self, member: str) -> list[int]:
        """For each cell style (cellXfs index), whether its number format is a date, a duration or a number."""
        custom: dict[int, str] = {}
        xf_formats: list[int] = []

        def start(name, attrs, stack):
            if name == "numFmt":
                with contextlib.suppress(ValueError):
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
            elif name == "xf" and len(stack) >= 2 and stack[-2].name == "cellXfs":
                try:
                    xf_formats.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xf_formats.append(0)

        self._parse_part(member, start=start)
        kinds = []
        for fmt in xf_formats:
            if fmt in custom:
                kinds.append(format_kind(custom[fmt]))
            elif fmt in BUILTIN_DATE_FORMATS:
                kinds.append(KIND_DATE)
            elif fmt in BUILTIN_DURATION_FORMATS:
                kinds.append(KIND_DURATION)
            else:
                kinds.append(KIND_NUMBER)
        return kinds

    def _sheet_member(self, name: str) -> str:
        try:
            member = self._sheet_parts[name]
        except KeyError:
            raise XlsxError(f"no sheet named {name!r}") from None
        found = self._member(member)
        if found is None:
            raise XlsxError(f"the part of sheet {name!r} ({member}) is missing")
        return found

    # -- sheets --------------------------------------------------------------------------------------------------

    def dimension(self, name: str) -> int | None:
        """The last row number of the sheet's <dimension ref="A1:J100"> (before sheetData), or None."""
        head = b""
        for chunk in self._chunks(self._sheet_member(name)):
            head += chunk
            data_start = _SHEETDATA_OPEN.search(head)
            limit = data_start.start() if data_start else len(head)
            found = _DIMENSION.search(head, 0, limit)
            if found:
                digits = re.search(rb"([0-9]+)\s*$", found[1])
                return int(digits[1]) if digits else None
            if data_start or len(head) > 4 * CHUNK_BYTES:
                return None
        return None

    def _blocks(self, member: str, prefix: list[bytes], container: bytes, item: bytes) -> Iterator[bytes]:
        """The content of the `container` element in blocks that end after a complete `item` element (or at
        the end of the container); the container's namespace prefix (b"x:" or b"") is appended to `prefix`.
        Only one chunk and an incomplete item are held at a time."""
        opening_tag = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)" + container + rb"\b[^>]*?(/?)>")
        buf = b""
        closing_tag = item_end = plain_item_end = b""
        started = False
        carry = b""
        for chunk in self._chunks(member):
            if carry:
                chunk, carry = carry + chunk, b""
            if b"\r" in chunk:
                # XML's end-of-line handling, as every XML parser (and calamine) does it: CR LF and a lone CR are
                # read as LF. A CR at the end of a chunk waits for the next, which may start with its LF.
                if chunk.endswith(b"\r"):
                    chunk, carry = chunk[:-1], b"\r"
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            buf += chunk
            if not started:
                if _DOCTYPE.search(buf):
                    _refuse_dtd()
                opening = opening_tag.search(buf)
                if opening is None:
                    continue  # the prolog is small; the tag may be split across chunks
                prefix.append(opening[1])
                if opening[2]:  # an empty container: <sheetData/>
                    return
                buf = buf[opening.end():]
                started = True
                closing_tag = b"</" + opening[1] + container
                item_end = b"</" + opening[1] + item + b">"
                plain_item_end = b"</" + item + b">"
            # Only the new bytes (and a tag's length before them) can hold the end of the container.
            closing = buf.find(closing_tag, max(0, len(buf) - len(chunk) - len(closing_tag)))
            if closing >= 0:
                yield buf[:closing]
                return
            cut = buf.rfind(item_end)
            if cut >= 0:
                cut += len(item_end)
            elif prefix[0]:
                cut = buf.rfind(plain_item_end)
                if cut >= 0:
                    cut += len(plain_item_end)
            if cut >= 0:
                yield buf[:cut]
                buf = buf[cut:]
        if not started:
            raise XlsxError(f"{member} has no {container.decode()} element")
        raise XlsxError(f"{member} is cut short (no end of {container.decode()})")

    def rows(self, name: str) -> Iterator[tuple[int, list]]:
        """(1-based row number, cells from column A) for each row that has a cell, in file order; missing cells
        in between are "" (the list ends at the row's last <c>, even an empty one).

        Two readers share the work: rows shaped like a recent row (same cells, attributes and kinds of content)
        are read by one regex match with a group per cell (_shaped_cells), far cheaper than a token per cell;
        the others go token by token (_token_rows), and teach the first reader new shapes while that pays.
        """
        member = self._sheet_member(name)
        state = _SheetState(self)
        prefix: list[bytes] = []
        findall = None
        shapes: list[tuple] = []  # (match, converters, columns or None when dense from A), most recent first
        shaping = True
        made = hits = 0
        converters, inline_string, other_value = self._shape_converters(state.text_cache)
        for block in self._blocks(member, prefix, b"sheetData", b"row"):
            if findall is None:
                findall = _token_regex(prefix[0]).findall
                fast_findall = _fast_token_regex(prefix[0]).findall
                unnumbered = _unnumbered_row_regex(prefix[0]).search
                row_end = b"</" + prefix[0] + b"row>"
            position = 0
            size = len(block)
            while position < size:
                found = None
                for shape in shapes:
                    found = shape[0](block, position)
                    if found is not None:
                        break
                if found is not None:
                    if state.in_row:
                        _malformed(state.row_number)
                    position = found.end()
                    values = found.groups(b"")
                    state.row_number = int(values[0])
                    hits += 1
                    yield state.row_number, _shaped_cells(shape, values, state.row_number)
                    continue
                # One row at a time while shapes are made, else the rest of the block at once.
                end = block.find(row_end, position) if shaping else -1
                end = size if end < 0 else end + len(row_end)
                if unnumbered(block, position, end) is None:
                    tokens = fast_findall(block, position, end)
                    if any(map(_STRAY, tokens)):
                        tokens = findall(block, position, end)
                else:  # a row without r (rare): numbered by its first cell's reference first
                    tokens = findall(_number_rows(block[position:end], prefix[0]))
                position = end
                if shaping:
                    shape = _row_shape(tokens, prefix[0], state.attr_cache, state.style_kinds, converters,
                                       inline_string, other_value)
                    if shape is not None:
                        shapes.insert(0, shape)
                        del shapes[SHAPES:]
                        made += 1
                        # Rows of ever new shapes would build a regex per row and try the others in vain:
                        # then read the rest token by token.
                        shaping = made < 64 or hits > 8 * made
                        if not shaping:
                            shapes.clear()
                yield from _token_rows(tokens, state)
            if state.in_row:
                _malformed(state.row_number)

    def _shape_converters(self, text_cache: dict[bytes, str]) -> tuple[dict, object, object]:
        """What the shaped rows convert their cells' raw text with: per kind of cell, inline text, the rest."""
        shared = self._shared
        shared_data = shared.data
        shared_offsets = shared.offsets
        date1904 = self.date1904

        def shared_string(raw: bytes) -> str:
            index = int(raw)
            if index < 0:
                raise IndexError(index)
            return shared_data[shared_offsets[index]:shared_offsets[index + 1]].decode()

        def inline_string(raw: bytes) -> str:
            if b"&" in raw or b"_x" in raw:
                value = text_cache.get(raw)
                return _text(raw, text_cache) if value is None else value
            return raw.decode()

        def other_value(code: tuple, raw: bytes):
            return _other_value(code, raw, b"", b"", shared, date1904, text_cache) if raw else ""

        return {CODE_NUMBER: float, CODE_SHARED: shared_string}, inline_string, other_value

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        self._shared.close()

    def __enter__(self) -> "XlsxBook":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


SHAPES = 8


def _row_shape(tokens: list, prefix: bytes, attr_cache: dict, style_kinds: list[int], converters: dict,
               inline_string, other_value) -> tuple | None:
    """(match, converters, columns) for rows like the one `tokens` hold, or None when the row has anything
    unusual (no r, whitespace or other content, repeated columns); columns is None when the cells are
    A, B, C... without a gap."""
    p = re.escape(prefix)
    parts = [rb"<" + p + rb'row r="([0-9]+)"(?:\s[^>/]*)?>']
    convert_list = []
    columns = []
    for letters, attrs, v_text, is_text, content, row_tag, row_attrs, row_closed, stray in tokens:
        if row_tag:
            if row_closed or (row_tag[0] != 47 and not row_attrs.lstrip().startswith(b'r="')):
                return None
            continue
        if not letters or content or stray:
            return None
        code = attr_cache.get(attrs)
        if code is None:
            return None
        head = rb"<" + p + rb'c r="' + letters + rb'[0-9]+"' + re.escape(attrs)
        if v_text:
            # [^<]+: an empty <v></v> or <t></t> is an empty cell, which the token path reads.
            parts.append(head + rb"><" + p + rb"v>([^<]+)</" + p + rb"v></" + p + rb"c>")
            convert = converters.get(code) or functools.partial(other_value, code)
        elif is_text and code is CODE_INLINE:
            parts.append(head + rb"><" + p + rb"is><" + p + rb"t>([^<]+)</" + p + rb"t></" + p + rb"is></" + p
                         + rb"c>")
            convert = inline_string
        elif not v_text and not is_text:
            parts.append(head + rb"(?:/>|>()</" + p + rb"c>)")
            convert = _blank
        else:
            return None
        column = _column_index(letters)
        if columns and column <= columns[-1]:
            return None
        columns.append(column)
        convert_list.append(convert)
    if not columns:
        return None
    parts.append(rb"</" + p + rb"row>")
    dense = columns == list(range(len(columns)))
    return re.compile(b"".join(parts)).match, convert_list, None if dense else columns


class _SheetState:
    """What reading one sheet carries from batch to batch of tokens: the caches, the workbook's shared strings
    and styles, the row being read (its number, and the count for rows without r) and its cells so far."""

    __slots__ = ("attr_cache", "cells", "column", "column_cache", "counted_row", "counter", "date1904",
                 "in_row", "row_number", "shared", "style_kinds", "text_cache", "width")

    def __init__(self, book: "XlsxBook") -> None:
        self.shared = book._shared
        self.style_kinds = book._style_kinds
        self.date1904 = book.date1904
        self.attr_cache: dict[bytes, tuple] = {}
        self.column_cache: dict[bytes, int] = {}
        self.text_cache: dict[bytes, str] = {}
        self.row_number = self.counter = 0
        self.counted_row = -1
        self.cells: list = []
        self.in_row = False
        # column: the next cell's column when it has no reference; width: len(cells) (0 when none yet).
        self.column = self.width = 0


def _shaped_cells(shape: tuple, values: tuple, row_number: int) -> list:
    """The cells of a row matched by a shape: its groups after the row number, converted, at their columns."""
    try:
        if shape[2] is None:
            return [convert(raw) for convert, raw in zip(shape[1], values[1:], strict=True)]
        cells = [""] * (shape[2][-1] + 1)
        for index, convert, raw in zip(shape[2], shape[1], values[1:], strict=True):
            cells[index] = convert(raw)
        return cells
    except (ValueError, IndexError, OverflowError):
        raise XlsxError(f"an unreadable cell in row {row_number}") from None


def _token_rows(tokens: list, state: _SheetState) -> Iterator[tuple[int, list]]:
    """The rows that end among these tokens, read token by token; the row being read stays in `state`.

    The state is copied into locals for the loop (one attribute look-up per batch, not per cell).
    """
    attr_cache, column_cache, text_cache = state.attr_cache, state.column_cache, state.text_cache
    style_kinds, shared, date1904 = state.style_kinds, state.shared, state.date1904
    shared_data, shared_offsets = shared.data, shared.offsets
    row_number, counter, counted_row = state.row_number, state.counter, state.counted_row
    cells, in_row, column, width = state.cells, state.in_row, state.column, state.width
    for letters, attrs, v_text, is_text, content, row_tag, row_attrs, row_closed, stray in tokens:
        if letters:  # a cell with its reference first: by far the most common token
            if not in_row:
                _malformed(row_number)
            try:
                column = column_cache[letters]
            except KeyError:
                column = column_cache[letters] = _column_index(letters)
        elif row_tag or stray:
            if stray:
                _malformed(row_number)
            if row_tag[0] == 47:  # "/": the end of the row
                if not in_row or row_attrs.strip() or row_closed:
                    _malformed(row_number)
                in_row = False
                if width:
                    yield row_number, cells
                continue
            if in_row:
                _malformed(row_number)
            numbered = _ROW_R.search(row_attrs) if row_attrs else None
            if numbered:
                row_number = int(numbered[1])
            else:
                # The count goes on from the last row's r (as in calamine and openpyxl), even when
                # the last row took its number from its cells.
                counter = (counter if counted_row == row_number else row_number) + 1
                by_cell = _CELL_ROW.search(row_attrs) if row_attrs else None
                row_number = counted_row = int(by_cell[1]) if by_cell else counter
            cells = []
            width = column = 0
            in_row = not row_closed
            continue
        else:  # a cell without r first: r elsewhere, or none (then the next column)
            if not in_row:
                _malformed(row_number)
            letters_in_attrs = _parse_cell_attrs(attrs, style_kinds)[1]
            column = _column_index(letters_in_attrs) if letters_in_attrs else column
        try:
            code = attr_cache[attrs]
        except KeyError:
            code = attr_cache[attrs] = _parse_cell_attrs(attrs, style_kinds)[0]
            if len(attr_cache) > 4096:  # r among the other attributes: don't keep one entry per cell
                attr_cache.clear()
        try:
            if code is CODE_SHARED and v_text:
                index = int(v_text)
                if index < 0:
                    raise IndexError(index)
                value = shared_data[shared_offsets[index]:shared_offsets[index + 1]].decode()
            elif code is CODE_NUMBER and v_text:
                value = float(v_text)
            elif code is CODE_INLINE and is_text:
                if b"&" in is_text or b"_x" in is_text:
                    value = text_cache.get(is_text)
                    if value is None:
                        value = _text(is_text, text_cache)
                else:
                    value = is_text.decode()
            elif v_text or is_text or content:
                value = _other_value(code, v_text, is_text, content, shared, date1904, text_cache)
            else:
                value = ""  # an empty cell: kept, so a row ends at its last <c> either way
        except (ValueError, IndexError, OverflowError):
            raise XlsxError(f"an unreadable cell in row {row_number}") from None
        if column == width:
            cells.append(value)
            width += 1
        elif column > width:
            cells.extend([""] * (column - width))
            cells.append(value)
            width = column + 1
        else:
            cells[column] = value  # a repeated or out-of-order reference: the last one wins
        column += 1
    state.row_number, state.counter, state.counted_row = row_number, counter, counted_row
    state.cells, state.in_row, state.column, state.width = cells, in_row, column, width


def _blank(_raw: bytes) -> str:
    return ""


def _malformed(row_number: int) -> None:
    raise XlsxError(f"malformed sheet XML after row {row_number}")


def _parse_cell_attrs(attrs: bytes, style_kinds: list[int]) -> tuple:
    """(code, column letters if r is among these attributes); code is (t, kind of the style's number format),
    one of the CODE_ constants for the common cases so that the loop can compare by identity."""
    if not _ATTRS_OK.fullmatch(attrs):
        raise XlsxError(f"malformed cell attributes {attrs[:80]!r}")
    kind = "n"
    style_kind = KIND_NUMBER
    letters = None
    for match in _ATTR.finditer(attrs):
        key = match[1].rpartition(b":")[2]
        value = match[2] if match[2] is not None else match[3]
        if key == b"t":
            kind = value.decode("ascii", "replace")
        elif key == b"s":
            try:
                style = int(value)
            except ValueError:
                style = 0
            style_kind = style_kinds[style] if 0 <= style < len(style_kinds) else KIND_NUMBER
        elif key == b"r":
            ref = re.match(rb"\$?([A-Za-z]{1,3})", value)
            letters = ref[1].upper() if ref else None
    if kind not in ("n", "s", "str", "inlineStr", "b", "e", "d"):
        raise XlsxError(f"unknown cell type t={kind!r}")
    code = (kind, style_kind if kind == "n" else KIND_NUMBER)
    for known in (CODE_NUMBER, CODE_INLINE, CODE_SHARED):
        if code == known:
            code = known
    return code, letters


def _text(raw: bytes, cache: dict[bytes, str]) -> str:
    if b"&" not in raw:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise XlsxError("text that is not valid UTF-8") from None
        return _unescape_x(text) if "_x" in text else text
    text = cache.get(raw)
    if text is None:
        text = _decode_text(raw)
        if len(cache) >= TEXT_CACHE_SIZE:
            cache.clear()
        cache[raw] = text
    return text


class _CellContent:
    """The texts of a cell's content that does not have one of the usual shapes, read with expat (so the
    content is checked to be well formed): the <v> text, and the <t> texts of <is> outside phonetic runs."""

    def __init__(self, content: bytes, root: bytes = b"c") -> None:
        self._in_si = root == b"si"
        self.value: list[str] = []
        self.texts: list[str] = []
        self._stack: list[str] = []
        self._phonetic = 0
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        try:
            # Prefixed names are read as plain names, so the fragment needs no namespace declarations.
            parser.Parse(b"<" + root + b">" + content + b"</" + root + b">", True)
        except expat.ExpatError as exc:
            raise XlsxError(f"malformed cell XML: {exc}") from None

    def _start(self, name: str, _attrs) -> None:
        name = name.rpartition(":")[2]
        self._stack.append(name)
        if name == "rPh":
            self._phonetic += 1

    def _end(self, _name: str) -> None:
        if self._stack.pop() == "rPh":
            self._phonetic -= 1

    def _text(self, data: str) -> None:
        stack = self._stack
        if len(stack) == 2 and stack[1] == "v":
            self.value.append(data)
        elif stack[-1] == "t" and not self._phonetic and (self._in_si or "is" in stack):
            self.texts.append(data)


def _other_value(code: tuple, v_text: bytes, is_text: bytes, content: bytes, shared: _SharedStrings,
                 date1904: bool, cache: dict[bytes, str]):
    """The value of any cell the loop in rows() does not read itself."""
    kind, style_kind = code
    if content:
        parsed = _CellContent(content)
        if kind == "inlineStr":
            text = "".join(parsed.texts)
            return _unescape_x(text) if "_x" in text else text
        # Entities are already decoded: escape the text again for the helpers below (a rare path).
        raw = "".join(parsed.value).replace("&", "&amp;").encode("utf-8", "surrogatepass")
    elif is_text:
        return _text(is_text, cache) if kind == "inlineStr" else ""  # calamine reads only <v> of other cells
    else:
        raw = v_text
    if kind == "inlineStr" or not raw:
        return ""  # calamine reads only <is> of an inline string cell
    if kind == "n":
        value = float(raw)
        if style_kind == KIND_DATE:
            return _excel_datetime(value, date1904)
        if style_kind == KIND_DURATION:
            return _excel_duration(value)
        return value
    if kind == "s":
        return shared[int(raw)]
    if kind == "str":
        return _text(raw, cache)
    if kind == "b":
        flag = raw.strip().lower()
        if flag in (b"1", b"true"):
            return True
        if flag in (b"0", b"false"):
            return False
        raise ValueError(raw)
    if kind == "d":
        return _iso_value(_text(raw, cache))
    return ""  # t="e": calamine gives an empty cell for an error value
