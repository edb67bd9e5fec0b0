"""Bytes to text: size limits, byte order marks, UTF-8, declared and guessed charsets, binary data.

Whole files (text, HTML, JSON) are read and decoded at once; JSONL and CSV files are streamed a
line at a time in the encoding their start shows.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bs4.dammit import EncodingDetector

from search.articles.model import ArticleError

MAX_FILE_BYTES = 16 * 1024 * 1024
SNIFF_BYTES = 8192
# Charsets, declared or guessed, that a browser reads as a superset; the strict codecs fail on real pages.
_CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
}
# C0 controls but tab, line breaks, form feed and ESC: a share of them in a file's start tells binary data.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_MAX_BINARY_SHARE = 0.05  # text holds a stray one (a NUL); binary data about one byte in ten (26 of 256)
_UNDECODED = re.compile(r"[\udc80-\udcff]")  # bytes a decoder could not read, kept by surrogateescape


def read_bytes(path: Path) -> bytes:
    """Read a whole file, refusing empty and oversize ones."""
    size = path.stat().st_size
    if size == 0:
        raise ArticleError("empty file")
    if size > MAX_FILE_BYTES:
        raise ArticleError(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    return path.read_bytes()


def decode_text(data: bytes) -> str:
    """Decode a text or JSON file: BOM, else UTF-8, else the charset-normalizer guess.

    >>> decode_text("香港新闻".encode("utf-16"))
    '香港新闻'
    """
    return _decode(data)[1]


def decode_html(data: bytes) -> str:
    """Decode an HTML page: BOM, else UTF-8, else its declared charset, else a guess."""
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    return _decode(data, declared=declared, is_html=True)[1]


def open_stream(path: Path) -> TextIO:
    """Open a JSONL or CSV file as text in the encoding its start shows, refusing an empty or binary file.

    Bytes the encoding cannot decode are kept as lone surrogates, so that stream_line refuses
    their line rather than the decoder the rest of the file. Lines end at "\\n" only, as in bytes.
    """
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        raise ArticleError("empty file")
    encoding, _ = _decode(head, start=True)
    return path.open(encoding=encoding, errors="surrogateescape", newline="\n")


def bounded_lines(f: TextIO) -> Iterator[str | ArticleError]:
    """Yield the lines of a text file, and an ArticleError in place of a line longer than MAX_FILE_BYTES characters."""
    while line := f.readline(MAX_FILE_BYTES + 1):
        if len(line) <= MAX_FILE_BYTES or line.endswith("\n"):
            yield line
            continue
        while (rest := f.readline(MAX_FILE_BYTES)) and not rest.endswith("\n"):
            pass
        yield ArticleError(f"line too long (limit {MAX_FILE_BYTES} characters)")


def stream_line(line: str, encoding: str) -> str:
    """Return a line of a stream without a byte order mark, refusing a line its encoding could not decode."""
    if _UNDECODED.search(line):
        raise ArticleError(f"not {encoding.upper()} text")
    return line.removeprefix("\ufeff")


def _is_binary(data: bytes) -> bool:
    """Tell binary data from text by the share of control bytes in its start."""
    head = data[:SNIFF_BYTES]
    return len(_BINARY_BYTES.findall(head)) > len(head) * _MAX_BINARY_SHARE


def _decode(
    data: bytes, *, declared: str | None = None, is_html: bool = False, start: bool = False
) -> tuple[str, str]:
    """Decode bytes to (encoding, text), refusing binary and undecodable data.

    With start=True the bytes are the start of a stream read line by line: they may end inside a
    character, and a few bytes that UTF-8 cannot decode (a broken line, refused on its own) do
    not make a UTF-8 stream another encoding.
    """
    stripped, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    if bom_encoding:
        codec = codecs.lookup(bom_encoding)
        try:
            return codec.name, codec.incrementaldecoder().decode(stripped, not start)
        except UnicodeDecodeError as e:
            raise ArticleError(f"not {codec.name.upper()} text despite its byte order mark") from e
    if _is_binary(data):
        raise ArticleError("binary file")
    if start:
        text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(data, False)
        if _mostly_decoded(text):
            return "utf-8", text
    # Valid UTF-8 is trusted over a declaration: pages are often re-saved without updating it.
    known = ["utf-8"]
    if declared:
        known.append(declared)
    detector = EncodingDetector(data, known_definite_encodings=known, is_html=is_html)
    for encoding in detector.encodings:  # then the declaration, charset-normalizer, windows-1252
        try:
            codec = codecs.lookup(_CHARSET_SUPERSETS.get(encoding.lower(), encoding))
            return codec.name, codec.incrementaldecoder().decode(data, not start)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ArticleError("undecodable text")


def _mostly_decoded(text: str) -> bool:
    """Tell whether text decoded with surrogateescape kept no more bad bytes than other non-ASCII characters.

    To UTF-8, text in GBK or Big5 is mostly bad bytes; a UTF-8 stream with a broken line has a few.
    """
    undecoded = len(_UNDECODED.findall(text))
    return undecoded <= sum(1 for char in text if char > "\x7f") - undecoded
