"""Tell what a file really is from its first bytes, never from its name; and check that an
.xlsx's members are as large as their headers say before a reader inflates them.

The sizes a zip's headers declare are checked first (:func:`sniff`: total, ratio, member count).
They may lie: a member declared as 1 KB may inflate to 500 MB, and python-calamine inflates what
is there, not what was declared (a 2 MB file peaked at 2.2 GB, #19).  Python's ``zipfile`` stops
at the declared size, but a CRC made over the first 1 KB passes its check.  So
:func:`check_member` inflates the raw deflate data itself, counting, never more than one byte past
the declared size (``decompressobj`` with ``max_length``): the first byte beyond it refuses the
file.  weiwen runs it on every member before calamine inflates that member from the file itself
(sheets weiwen has already copied, by Python's bounded reads, into workbooks of its own need
not be checked); the declared sizes are then the real ones, and the limits above hold.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from weiwen.core.errors import system_reason

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")

# A roster of 1,000,000 persons unpacks to about 400 MB of sheet XML; anything far beyond
# that, or packed far tighter than spreadsheets ever are, is refused before parsing.
MAX_UNCOMPRESSED = 3 * 1024**3
MAX_RATIO = 200
MAX_MEMBERS = 10_000


class Format(StrEnum):
    XLSX = "xlsx"
    XLS = "xls"
    CSV = "csv"
    HTML = "html"
    ENCRYPTED = "encrypted"
    EMPTY = "empty"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Sniffed:
    format: Format
    detail: str = ""


def sniff(path: Path) -> Sniffed:
    """Classify ``path`` by content.  Raises ``OSError`` when it cannot be read."""
    size = path.stat().st_size
    if size == 0:
        return Sniffed(Format.EMPTY)
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        # An encrypted .xlsx is an OLE container holding an EncryptionInfo stream.
        data = path.read_bytes() if size <= 64 * 1024**2 else head
        if _ENCRYPTION_MARK in data:
            return Sniffed(Format.ENCRYPTED)
        return Sniffed(Format.XLS)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    while text.startswith(b"<!--") and b"-->" in text:  # a comment before the page (saved by a browser)
        text = text.split(b"-->", 1)[1].lstrip(b" \t\r\n")
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta", b"<head")) \
            or text.startswith(b"mime-version:") and b"text/html" in head.lower():  # MHTML: a web page archive
        return Sniffed(Format.HTML)
    if b"\x00" in head:
        return Sniffed(Format.UNKNOWN, "二进制文件")
    return Sniffed(Format.CSV)


def _sniff_zip(path: Path) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return Sniffed(Format.UNKNOWN, f"corrupt:{system_reason(exc)}")
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        return Sniffed(Format.UNKNOWN, "ZIP 压缩包，不是 Excel 工作簿")
    if len(infos) > MAX_MEMBERS:
        return Sniffed(Format.UNKNOWN, f"toolarge:压缩包内有 {len(infos)} 个文件")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED or (total > 100 * 1024**2 and total / packed > MAX_RATIO):
        return Sniffed(Format.UNKNOWN, f"toolarge:{total // 1024**2} MB，压缩比 {total // packed}:1")
    return Sniffed(Format.XLSX)


class MemberLies(Exception):
    """A zip member that inflates to more than its headers declare; ``str(exc)`` says so in Chinese."""


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_INFLATE_BLOCK = 1 << 20


def check_member(fh: BinaryIO, info: zipfile.ZipInfo, watch: Callable[[bytes], None] | None = None) -> None:
    """Raise :class:`MemberLies` when ``info``'s data in the open zip file ``fh`` holds more than
    ``info.file_size`` bytes once inflated; ``watch`` is given the inflated data block by block
    (whatever it raises stops the check).  Memory: one block in, one block out (1 MB each)."""
    declared = info.file_size
    stored = info.compress_type == zipfile.ZIP_STORED
    if stored and info.compress_size > declared:
        raise MemberLies(f"压缩包条目 {info.filename} 的实际大小超过声明的 {declared} 字节")
    if stored and watch is None:
        return
    if not stored and info.compress_type != zipfile.ZIP_DEFLATED:
        return  # Deflate64 and others: Python cannot inflate them; the declared sizes' limits apply
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise MemberLies(f"压缩包条目 {info.filename} 的文件头损坏")
    fields = _LOCAL_HEADER.unpack(head)
    fh.seek(info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10])
    left, produced = info.compress_size, 0
    if stored:
        while left > 0 and (block := fh.read(min(_INFLATE_BLOCK, left))):
            left -= len(block)
            watch(block)  # type: ignore[misc]
        return
    inflate = zlib.decompressobj(-15)
    while left > 0 and not inflate.eof:
        block = fh.read(min(_INFLATE_BLOCK, left))
        if not block:
            break
        left -= len(block)
        data = block
        while data and not inflate.eof:
            try:
                out = inflate.decompress(data, min(_INFLATE_BLOCK, declared + 1 - produced))
            except zlib.error:
                return  # damaged data: the readers say so; it cannot inflate to more than this
            produced += len(out)
            if produced > declared:
                raise MemberLies(f"压缩包条目 {info.filename} 解压后超过声明的 {declared} 字节")
            if watch is not None:
                watch(out)
            data = inflate.unconsumed_tail
