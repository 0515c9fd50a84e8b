"""Check a legacy .xls (an OLE/CFB container) before any reader follows its sector chains.

An OLE file is a small file system: a header, a sector allocation table (FAT, found through the
header's DIFAT list and further DIFAT sectors), a directory, and streams stored as chains of
sectors (``FAT[s]`` is the sector after ``s``).  Small streams live in a mini stream with its own
table (the MiniFAT).  A reader that follows a chain without remembering where it has been grows
without end when the chain loops: a crafted 3.5 KB .xls made python-calamine take 6.6 GB in 5 s
(#19).  :func:`check_ole` walks every chain weiwen's readers will follow — the DIFAT, the FAT
sectors it names, the directory, the MiniFAT, the mini stream and every stream — with a visited
set and the bound the file's size gives (no chain can be longer than the file has sectors), and
refuses the file as damaged at the first loop, sector past the end of the file or stream longer
than its chain, before calamine or xlrd see it.  It costs one read of the file and a walk of its
tables (a 30 MB .xls: a few milliseconds).

It also reads the workbook stream's first records: an .xls with an open password keeps a
FILEPASS record (0x002F) right after the first BOF record, whatever the encryption (the XOR
obfuscation of old Excel versions made python-calamine report a damaged file, not a password).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
_MAX_SPECIAL = 0xFFFFFFFA  # every value from here up is a marker, not a sector number
_BOF, _EOF, _FILEPASS = 0x0809, 0x000A, 0x002F
_FIRST_RECORDS = 64  # FILEPASS follows the first BOF; a few records are looked at, no more
MAX_OLE_BYTES = 512 << 20  # an .xls holds at most 65,536 rows per sheet; none comes near this


class OleDamaged(Exception):
    """The container's tables are inconsistent; ``str(exc)`` is the reason in Chinese."""


@dataclass(frozen=True)
class OleFacts:
    encrypted: bool  # the workbook stream starts with a password record
    workbook: bool  # there is a Workbook (BIFF8) or Book (BIFF5) stream at all


def check_ole(path: Path) -> OleFacts:
    """Walk the tables of the OLE file ``path``; raise :class:`OleDamaged` when a chain loops,
    leaves the file or is shorter than its stream.  ``OSError`` when it cannot be read."""
    if path.stat().st_size > MAX_OLE_BYTES:
        raise OleDamaged(f"旧版 Excel 文件大于 {MAX_OLE_BYTES >> 20} MB")
    return _Ole(path.read_bytes()).check()


class _Ole:
    def __init__(self, data: bytes):
        if len(data) < 512:
            raise OleDamaged("文件头不完整")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise OleDamaged("文件头中的扇区大小无效")
        self.size = 1 << shift
        self.sectors = (len(data) - self.size + self.size - 1) // self.size  # the header takes one sector
        (self.n_fat, self.dir_start, _, self.mini_cutoff, self.minifat_start, self.n_minifat,
         self.difat_start, self.n_difat) = struct.unpack_from("<IIIIIIII", data, 0x2C)
        self.fat: list[int] = []

    def sector(self, s: int) -> bytes:
        at = (s + 1) * self.size
        return self.data[at:at + self.size].ljust(self.size, b"\0")  # the last sector may be cut short

    def check(self) -> OleFacts:
        self._load_fat()
        directory = b"".join(self.sector(s) for s in self.chain(self.dir_start, "目录"))
        entries = [directory[k:k + 128] for k in range(0, len(directory) - 127, 128)]
        if not entries or entries[0][66] != 5:
            raise OleDamaged("目录中没有根项")
        root_start, root_size = self._start_size(entries[0])
        mini_stream = self.chain(root_start, "迷你流") if root_size else []
        if len(mini_stream) * self.size < root_size:
            raise OleDamaged("迷你流比记录的长度短")
        minifat = self._load_minifat()
        book: bytes | None = None
        for entry in entries[1:]:
            if entry[66] != 2:  # a stream (storages and unused entries have no data of their own)
                continue
            start, size = self._start_size(entry)
            if size > len(self.data) * 64:
                raise OleDamaged("数据流记录的长度超出文件大小")
            if size < self.mini_cutoff:
                chain = self._mini_chain(minifat, start, size, len(mini_stream) * self.size // 64)
                data = None
            else:
                chain = self.chain(start, "数据流")
                if len(chain) * self.size < size:
                    raise OleDamaged("数据流比记录的长度短")
                data = chain
            name = entry[:max(0, min(64, struct.unpack_from("<H", entry, 64)[0]) - 2)]
            if name in ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le")) and book is None:
                if data is None:  # a workbook under the mini-stream cutoff (4 KB): read through the mini stream
                    raw = b"".join(self.sector(s) for s in mini_stream)
                    book = b"".join(raw[m * 64:m * 64 + 64] for m in chain)[:size]
                else:
                    book = b"".join(self.sector(s) for s in data[:_FIRST_RECORDS * 2 + 2])[:size]
        return OleFacts(encrypted=book is not None and _has_filepass(book), workbook=book is not None)

    def _start_size(self, entry: bytes) -> tuple[int, int]:
        start, low, high = struct.unpack_from("<III", entry, 116)
        return start, low if self.size == 512 else low | high << 32  # version 3 ignores the high half

    def _load_fat(self) -> None:
        if self.n_fat > self.sectors:
            raise OleDamaged(f"文件头记录了 {self.n_fat} 个分配表扇区，文件只有 {self.sectors} 个扇区")
        listed = [s for s in struct.unpack_from("<109I", self.data, 0x4C) if s != FREESECT]
        per = self.size // 4 - 1
        seen: set[int] = set()
        s, walked = self.difat_start, 0
        while s not in (ENDOFCHAIN, FREESECT) and walked < self.n_difat:
            self._in_file(s, "分配表索引（DIFAT）")
            if s in seen:
                raise OleDamaged("分配表索引（DIFAT）的扇区链成环")
            seen.add(s)
            values = struct.unpack_from(f"<{per + 1}I", self.sector(s))
            listed.extend(v for v in values[:per] if v != FREESECT)
            s, walked = values[per], walked + 1
        listed = listed[:self.n_fat]
        if len(listed) < self.n_fat:
            raise OleDamaged("分配表扇区的数目与文件头不符")
        if len(set(listed)) != len(listed):
            raise OleDamaged("分配表扇区重复")
        for s in listed:
            self._in_file(s, "分配表")
        per_fat = self.size // 4
        for s in listed:
            self.fat.extend(struct.unpack_from(f"<{per_fat}I", self.sector(s)))

    def _in_file(self, s: int, what: str) -> None:
        if s >= self.sectors:
            raise OleDamaged(f"{what}指向文件末尾之后的扇区")

    def chain(self, start: int, what: str) -> list[int]:
        """The sectors of the chain from ``start``: each in the file, none twice."""
        out: list[int] = []
        seen: set[int] = set()
        s = start
        while s != ENDOFCHAIN:
            if s >= _MAX_SPECIAL and s != ENDOFCHAIN:
                if not out and s == FREESECT:
                    return out  # an empty stream
                raise OleDamaged(f"{what}的扇区链中断")
            self._in_file(s, what)
            if s >= len(self.fat):
                raise OleDamaged(f"{what}的扇区不在分配表中")
            if s in seen:
                raise OleDamaged(f"{what}的扇区链成环")
            seen.add(s)
            out.append(s)
            s = self.fat[s]
        return out

    def _load_minifat(self) -> list[int]:
        if self.n_minifat > self.sectors:
            raise OleDamaged(f"文件头记录了 {self.n_minifat} 个迷你分配表扇区，文件只有 {self.sectors} 个扇区")
        if self.minifat_start in (ENDOFCHAIN, FREESECT):
            return []
        sectors = self.chain(self.minifat_start, "迷你分配表")
        per = self.size // 4
        out: list[int] = []
        for s in sectors:
            out.extend(struct.unpack_from(f"<{per}I", self.sector(s)))
        return out

    def _mini_chain(self, minifat: list[int], start: int, size: int, mini_sectors: int) -> list[int]:
        if size == 0:
            return []
        out: list[int] = []
        seen: set[int] = set()
        s = start
        while s != ENDOFCHAIN:
            if s >= min(len(minifat), mini_sectors):
                raise OleDamaged("小数据流指向迷你流之外")
            if s in seen:
                raise OleDamaged("小数据流的扇区链成环")
            seen.add(s)
            out.append(s)
            s = minifat[s]
        if len(out) * 64 < size:
            raise OleDamaged("小数据流比记录的长度短")
        return out


def _has_filepass(book: bytes) -> bool:
    """Whether the workbook stream's first records (after the first BOF) include FILEPASS."""
    pos = 0
    for k in range(_FIRST_RECORDS):
        if pos + 4 > len(book):
            return False
        kind, length = struct.unpack_from("<HH", book, pos)
        if k == 0 and kind != _BOF and kind & 0xFF != 0x09:  # not a BIFF workbook stream: others tell
            return False
        if kind == _FILEPASS:
            return True
        if kind == _EOF:
            return False
        pos += 4 + length
    return False
