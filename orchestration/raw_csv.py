"""Reading one raw CSV file line by line: its dialect, its encoding, and the lines it rejects.

The landing step (orchestration/landing.py) calls :func:`inspect` on every CSV
file before it reads it, and :func:`land` to copy it into a raw table:

* The header decides the dialect. The delimiter is whichever of ``,`` ``;``
  tab ``|`` splits the first line into the most expected column names; the
  quote is ``"``. DuckDB's sniffer is not used: one malformed line can make it
  give up on the whole file (it then sees a single column and the file looked
  as if it missed every required column).
* The encoding is declared per entity (``RAW_CSV_ENCODING``) or detected:
  UTF-8 with or without BOM, UTF-16 with a BOM or recognisable by its zero
  bytes. A file that is not UTF-8 and declares nothing is refused with the
  encoding its bytes suggest (GB18030 or latin-1).
* DuckDB parses the file with ``store_rejects``: a line with the wrong number
  of fields or an invalid UTF-8 byte becomes a rejected line with its line
  number and text, every other line loads.
* Some files DuckDB cannot read line by line: an unclosed quote swallows every
  line after it into one field, a NUL byte passes as text, and GB18030 /
  GBK / cp1252 are not among its encodings. Such a file is decoded here in
  Python, one physical line at a time, into a clean UTF-8 copy that DuckDB then
  reads; the lines that fail are rejected with their reason. A quoted value
  spanning several lines cannot be told from an unclosed quote on this path,
  so in such a file its lines are rejected too.

Rejected lines keep the file, the physical line number (the header is line 1),
the text as far as it decodes, a reason and a detail.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Encodings DuckDB's CSV reader decodes itself (no extension needed).
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}
SAMPLE_BYTES = 1 << 16

# Reasons a line is rejected (raw._rejected_lines.reason).
MALFORMED_LINE = "malformed_line"  # wrong number of fields, or an unclosed quote
INVALID_ENCODING = "invalid_encoding"  # bytes that are not valid in the file's encoding
NUL_BYTE = "nul_byte"  # a NUL character: binary garbage in a text export
LINE_TOO_LONG = "line_too_long"  # over MAX_LINE_BYTES
# DuckDB's read_csv rejects a line over its max_line_size (2,000,000 bytes by
# default) and keeps its first 10,000 characters; the line-by-line path does the same.
MAX_LINE_BYTES = 2_000_000
REJECTED_TEXT_CHARS = 10_000


class CsvRefused(ValueError):
    """The file cannot be read at all (the landing turns this into its RawDataError)."""


@dataclasses.dataclass(frozen=True)
class CsvFile:
    path: Path
    encoding: str  # a Python codec name (normalised)
    delimiter: str
    columns: tuple[str, ...]  # header names, trimmed and lower-cased, made unique
    header_only: bool

    @property
    def native_encoding(self) -> str | None:
        return NATIVE_ENCODINGS.get(self.encoding)


@dataclasses.dataclass(frozen=True)
class RejectedLine:
    line_number: int
    raw_line: str
    reason: str
    detail: str


def normalise_encoding(name: str) -> str:
    """A codec name in one spelling (utf-8, utf-16, latin-1, gb18030, ...); raises LookupError."""
    codec = codecs.lookup(name.strip()).name
    return {"utf-8-sig": "utf-8", "iso8859-1": "latin-1", "utf-16-le": "utf-16-le"}.get(codec, codec)


def _open_binary(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _read_sample(path: Path) -> tuple[bytes, bool]:
    """The first SAMPLE_BYTES bytes (decompressed) and whether that is the whole file.

    A gzip file is read to its end once: DuckDB does not check the gzip
    checksum, so a corrupt file would load garbage rows and stop short.
    """
    try:
        with _open_binary(path) as handle:
            sample = handle.read(SAMPLE_BYTES + 1)
            if path.name.lower().endswith(".gz"):
                while handle.read(1 << 24):
                    pass
    except (OSError, EOFError, zlib.error) as error:
        raise CsvRefused(
            f"cannot be decompressed ({error}); it is not a readable gzip file. Export it again, "
            "or compress it with gzip (a .csv.gz must be gzip, not zip or another format)."
        ) from error
    return sample[:SAMPLE_BYTES], len(sample) <= SAMPLE_BYTES


def _utf16_without_bom(sample: bytes) -> str | None:
    """utf-16-le / utf-16-be when every other byte of an ASCII-heavy sample is zero."""
    head = sample[:512]
    if len(head) < 8:
        return None
    even_zero = sum(1 for b in head[0::2] if b == 0) / len(head[0::2])
    odd_zero = sum(1 for b in head[1::2] if b == 0) / len(head[1::2])
    if odd_zero > 0.7 and even_zero < 0.1:
        return "utf-16-le"
    if even_zero > 0.7 and odd_zero < 0.1:
        return "utf-16-be"
    return None


def _utf8_verdict(sample: bytes, complete: bool) -> tuple[int, int]:
    """(valid non-ASCII characters, invalid byte sequences) when the sample is read as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = decoder.decode(sample, final=complete)
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return valid, invalid


def suggest_encoding(sample: bytes) -> str:
    """The encoding a non-UTF-8 sample most likely has: gb18030 when it decodes so into CJK text."""
    try:
        text = sample.decode("gb18030")
    except UnicodeDecodeError:
        # a multi-byte character cut at the sample's end
        try:
            text = sample[:-1].decode("gb18030")
        except UnicodeDecodeError:
            return "latin-1"
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return "gb18030" if non_ascii and cjk / non_ascii > 0.5 else "latin-1"


def _undecodable_lines(sample: bytes, encoding: str) -> tuple[int, int]:
    """(lines that do not decode, lines with non-ASCII bytes) among the sample's complete lines."""
    failing = non_ascii = 0
    for line in sample.split(b"\n")[:-1]:
        if max(line, default=0) < 128:
            continue
        non_ascii += 1
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            failing += 1
    return failing, non_ascii


def detect_encoding(sample: bytes, complete: bool) -> str | None:
    """utf-8 / utf-16 / utf-16-le / utf-16-be, or None when the bytes are not Unicode."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    valid, invalid = _utf8_verdict(sample, complete)
    # A UTF-8 export with a few bad bytes has far more valid multi-byte
    # characters than bad ones, or very few bad ones: those lines are rejected
    # one by one. Mostly invalid sequences mean another encoding (a GB18030
    # text can form the odd valid UTF-8 sequence by chance).
    if invalid <= 2 or valid >= 4 * invalid:
        return "utf-8"
    return None


def _header_line(sample: bytes, encoding: str) -> str:
    codec = "utf-16" if encoding == "utf-16" else encoding
    text = codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False)
    text = text.lstrip("\ufeff")
    return text.split("\n", 1)[0].rstrip("\r")


def _has_data_after_header(sample: bytes, encoding: str) -> bool:
    codec = "utf-16" if encoding == "utf-16" else encoding
    text = codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False).lstrip("\ufeff")
    rest = text.split("\n", 1)[1] if "\n" in text else ""
    return rest.strip() != ""


def _split_header(line: str, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([line], delimiter=delimiter, quotechar='"'))
    except (csv.Error, StopIteration):
        fields = line.split(delimiter)
    return [field.strip().strip('"').strip().lower() for field in fields]


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names):
        name = name or f"column_{index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return tuple(out)


def inspect(path: Path, expected: tuple[str, ...], required: tuple[str, ...], declared: str | None) -> CsvFile:
    """Encoding, delimiter and header of one CSV file; raises CsvRefused with what to fix."""
    if path.stat().st_size == 0:
        raise CsvRefused(
            "is empty (0 bytes). Export it again with at least its header line, or remove the file "
            "if the entity is optional."
        )
    sample, complete = _read_sample(path)
    if not sample.strip(b" \t\r\n\x00"):
        raise CsvRefused(
            "holds no text (only blank lines). Export it again with its header line, or remove the "
            "file if the entity is optional."
        )
    encoding = declared or detect_encoding(sample, complete)
    if encoding is None:
        suggestion = suggest_encoding(sample)
        raise CsvRefused(
            f"is not UTF-8 (its bytes look like {suggestion}). Declare its encoding, e.g. "
            f"RAW_CSV_ENCODING={{entity}}={suggestion}, or export it as UTF-8."
        )
    if declared and declared != "utf-16":
        failing, non_ascii = _undecodable_lines(sample, declared)
        # A few bad lines are rejected one by one; most lines failing means the
        # declaration is wrong.
        if failing >= 3 and failing * 2 > non_ascii:
            raise CsvRefused(
                f"cannot be decoded as {declared}, the encoding declared for it ({failing} of the first "
                f"{non_ascii} lines with non-ASCII text fail; its bytes look like {suggest_encoding(sample)}). "
                "Declare the right encoding in RAW_CSV_ENCODING, or export it as UTF-8."
            )

    header = _header_line(sample, encoding)
    if not header.strip():
        raise CsvRefused(
            "starts with an empty line; its first line must be the header naming the columns "
            f"({', '.join(required)})."
        )
    scored = []
    for delimiter in DELIMITERS:
        names = _split_header(header, delimiter)
        scored.append((sum(1 for name in names if name in expected), len(names), delimiter, names))
    best_score, _, delimiter, names = max(scored, key=lambda item: (item[0], item[1]))
    if best_score == 0:
        shown = header if len(header) <= 200 else header[:200] + "..."
        raise CsvRefused(
            f"has no recognisable header: its first line {shown!r} names none of the expected columns "
            "when split by comma, semicolon, tab or pipe (unknown delimiter, or no header line). Make "
            f"the first line a header naming the columns ({', '.join(required)}), separated by one "
            "of , ; tab |."
        )
    columns = _unique(names)
    missing = [c for c in required if c not in columns]
    if missing:
        raise CsvRefused(
            f"is missing required column(s) {', '.join(missing)}: its header (split by "
            f"{DELIMITER_NAMES[delimiter]}) has {', '.join(columns)}; {{expected}}. Rename or add the "
            "column(s) in the export."
        )
    header_only = complete and not _has_data_after_header(sample, encoding)
    return CsvFile(path=path, encoding=encoding, delimiter=delimiter, columns=columns, header_only=header_only)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def reader_sql(csv_file: CsvFile, path: Path | None = None, encoding: str | None = None,
               rejects: str | None = None) -> str:
    """read_csv with the file's dialect stated (no sniffing), every column text."""
    columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in csv_file.columns) + "}"
    options = [
        "header = true",
        "auto_detect = false",
        f"delim = {_sql_str(csv_file.delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        f"columns = {columns}",
        f"encoding = {_sql_str(encoding or csv_file.native_encoding or 'utf-8')}",
        "null_padding = false",
    ]
    if rejects:
        options += ["store_rejects = true", f"rejects_table = '{rejects}'", f"rejects_scan = '{rejects}_scan'"]
    return f"read_csv({_sql_str(str(path or csv_file.path))}, {', '.join(options)})"


_NATIVE_REASONS = {
    "MISSING COLUMNS": MALFORMED_LINE,
    "TOO MANY COLUMNS": MALFORMED_LINE,
    "INVALID ENCODING": INVALID_ENCODING,
    "INVALID UNICODE": INVALID_ENCODING,
    "LINE SIZE OVER MAXIMUM": LINE_TOO_LONG,
}


def native_rejects(con: duckdb.DuckDBPyConnection, rejects: str) -> tuple[list[RejectedLine], bool]:
    """The lines DuckDB rejected, and whether the file needs the line-by-line path instead.

    An unclosed quote (DuckDB: UNQUOTED VALUE, or a rejected record spanning
    several lines) means DuckDB read the following lines as part of it.
    """
    rows = con.execute(
        f"select line, error_type, csv_line, error_message from {rejects} order by line, column_idx"
    ).fetchall()
    by_line: dict[int, RejectedLine] = {}
    for line, error_type, csv_line, message in rows:
        reason = _NATIVE_REASONS.get(str(error_type))
        text = (csv_line or "").strip("\r\n")  # with CRLF endings DuckDB's text starts with the \n
        if reason is None or "\n" in text:
            return [], True
        if line not in by_line:
            by_line[int(line)] = RejectedLine(int(line), text, reason, str(message))
    return list(by_line.values()), False


def _physical_lines(path: Path, encoding: str) -> Iterator[tuple[int, str | None, bytes | str]]:
    """(line number, text or None when it does not decode, raw) for every physical line."""
    with _open_binary(path) as handle:
        if encoding.startswith("utf-16"):
            codec = "utf-16" if encoding == "utf-16" else encoding
            text = io.TextIOWrapper(handle, encoding=codec, errors="replace", newline="")
            for number, line in enumerate(text, start=1):
                line = line.rstrip("\r\n")
                yield number, (None if "\ufffd" in line else line), line
            return
        for number, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\r\n")
            if number == 1 and encoding == "utf-8" and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield number, raw.decode(encoding), raw
            except UnicodeDecodeError:
                yield number, None, raw


def rewrite_line_by_line(csv_file: CsvFile, out_path: Path) -> list[RejectedLine]:
    """Write the file's parseable lines to out_path as clean UTF-8 CSV; return the rejected ones."""
    rejected: list[RejectedLine] = []
    width = len(csv_file.columns)
    # Python's csv refuses fields over 131,072 characters by default; DuckDB reads them.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
        writer.writerow(csv_file.columns)
        for number, text, raw in _physical_lines(csv_file.path, csv_file.encoding):
            if number == 1:
                continue
            if text is None:
                shown = raw.decode(csv_file.encoding, "backslashreplace") if isinstance(raw, bytes) else raw
                rejected.append(RejectedLine(number, shown, INVALID_ENCODING, f"not valid {csv_file.encoding}"))
                continue
            if not text.strip():
                continue  # a blank line is not a row (DuckDB skips them too)
            if len(text) > MAX_LINE_BYTES // 4 and len(text.encode("utf-8")) > MAX_LINE_BYTES:
                rejected.append(RejectedLine(number, text[:REJECTED_TEXT_CHARS], LINE_TOO_LONG,
                                             f"longer than {MAX_LINE_BYTES:,} bytes"))
                continue
            if "\x00" in text:
                rejected.append(RejectedLine(number, text.replace("\x00", "\\0"), NUL_BYTE, "NUL character"))
                continue
            try:
                fields = next(csv.reader([text], delimiter=csv_file.delimiter, quotechar='"', strict=True))
            except csv.Error as error:
                rejected.append(RejectedLine(number, text, MALFORMED_LINE, f"not parseable as CSV ({error})"))
                continue
            if text.count('"') % 2:
                rejected.append(RejectedLine(number, text, MALFORMED_LINE, "unclosed quote"))
                continue
            if len(fields) != width:
                rejected.append(
                    RejectedLine(number, text, MALFORMED_LINE, f"expected {width} fields, found {len(fields)}")
                )
                continue
            writer.writerow(fields)
    return rejected
