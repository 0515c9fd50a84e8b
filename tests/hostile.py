"""Malformed and crafted rosters, made deterministically from a seed, and a worker that reads them.

``cases(seed, count)`` yields (name, bytes) pairs: damaged containers (truncated, bytes flipped,
members dropped or renamed, lying sizes, an encryption flag), crafted sheets (a cell at XFD1048576,
a whole-sheet merge, a huge cell, error values, formulas), CSV edge cases (unterminated quotes,
fields past Python's limit, a comma that shifts the row so the ID lands in 性别) and random byte
mutations of the sample rosters.  Every case is derived from the sample rosters in samples/ and
the seed alone: the same seed gives the same files.

``python -m tests.hostile SEED COUNT FOLDER`` reads every case through the library as ``weiwen
validate`` does and prints one JSON line per case (name, problem codes, persons, seconds), and at
the end the peak memory of the run (``peak_kb``); a case that kills the process (a native abort)
is the last name printed before it died.  Crafted containers that lie about themselves (OLE chains
that loop, zip members larger than declared: :func:`crafted_ole`, :func:`lying_zip`) are among
the cases.  The test suite
runs a time-boxed slice (tests/test_hostile.py); the long run is documented in docs/hostile.md.
"""

from __future__ import annotations

import io
import json
import random
import re
import resource
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
XLS = ROOT / "tests" / "fixtures" / "golden.xls"  # a genuine BIFF8 workbook: 512-byte sectors, one FAT sector
SHEET = "xl/worksheets/sheet1.xml"
ID = "110101199003071234"  # a valid-looking ID: it must never appear whole in any message
PHONE = "13800138000"


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info, z.read(info)) for info in z.infolist()]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _edit_sheet(data: bytes, change: object) -> bytes:
    return _zip([(i.filename, change(b) if i.filename == SHEET else b)  # type: ignore[operator]
                 for i, b in _members(data)])


def _crafted(base: bytes) -> Iterator[tuple[str, bytes]]:
    members = _members(base)
    yield "far-cell.xlsx", _edit_sheet(base, lambda x: x.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    yield "far-row.xlsx", _edit_sheet(base, lambda x: x.replace(
        b"</sheetData>", b'<row r="1048576"><c r="ZZ1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    yield "whole-merge.xlsx", _edit_sheet(base, lambda x: re.sub(
        rb"<mergeCells.*?</mergeCells>", b"", x, flags=re.S).replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'))
    yield "huge-cell.xlsx", _edit_sheet(base, lambda x: x.replace(
        b"</sheetData>", b'<row r="70"><c r="D70" t="inlineStr"><is><t>' + "张".encode() * 40000
        + b"</t></is></c></row></sheetData>"))
    yield "error-values.xlsx", _edit_sheet(base, lambda x: x.replace(
        b"</sheetData>", b'<row r="71"><c r="E71" t="e"><v>#GETTING_DATA</v></c><c r="F71" t="e"><v>#N/A</v></c>'
        b"</row></sheetData>"))
    yield "no-sheet-part.xlsx", _zip([(i.filename, b) for i, b in members if i.filename != SHEET])
    yield "no-workbook-part.xlsx", _zip([(i.filename, b) for i, b in members if i.filename != "xl/workbook.xml"])
    yield "rel-outside.xlsx", _zip([(i.filename, b.replace(b'Target="worksheets/sheet1.xml"',
                                                             b'Target="../../../etc/passwd"')
                                    if i.filename.endswith("workbook.xml.rels") else b) for i, b in members])
    enc = bytearray(base)
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = enc.find(sig)
        while i >= 0:
            enc[i + at] |= 1
            i = enc.find(sig, i + 4)
    yield "encrypted-flag.xlsx", bytes(enc)
    yield "empty.xlsx", b""
    yield "html.xls", b"<!-- saved --><html><body><table><tr><td>x</td></tr></table></body></html>"
    yield "not-zip.xlsx", b"PK\x03\x04" + b"\x00" * 100
    head = "序号,村(社区),户号,姓名,身份证号,性别,联系电话\n"
    yield "shifted.csv", (head + f"1,王楼村,001,张,三,{ID},男,{PHONE}\n").encode("utf-8")
    yield "unterminated.csv", (head + f'1,王楼村,001,"张三,{ID},男\n2,王楼村,002,李四,{ID},女\n').encode("utf-8")
    yield "big-field.csv", (head + '1,王楼村,001,"' + "a" * 200_000 + f'",{ID},男\n').encode("utf-8")
    yield "long-line.csv", (head + "b" * 1_000_000 + "\n").encode("utf-8")
    yield "gbk.csv", (head + f"1,王楼村,001,张三,{ID},男\n").encode("gb18030")
    yield "utf16.csv", (head + f"1,王楼村,001,张三,{ID},男\n").encode("utf-16")
    yield "nul.csv", b"\x00" * 1000
    yield "zip-lying-sheet.xlsx", lying_zip(base)
    yield "zip-lying-sheet-crc.xlsx", lying_zip(base, good_crc=True)
    yield "zip-lying-strings.xlsx", lying_zip(base, "xl/sharedStrings.xml")
    yield from crafted_ole(XLS.read_bytes())


def _ole(data: bytes) -> tuple[bytearray, list[int], int]:
    """The file as a bytearray, its FAT (sector -> next sector), and the byte offset of the FAT
    sector (the fixture has one, listed first in the header's DIFAT)."""
    b = bytearray(data)
    fat_at = 512 + struct.unpack_from("<I", b, 0x4C)[0] * 512
    return b, list(struct.unpack_from("<128I", b, fat_at)), fat_at


def _ole_chain(fat: list[int], start: int) -> list[int]:
    out = []
    while start < len(fat) and start not in out:
        out.append(start)
        start = fat[start]
    return out


def _stream_start(b: bytes, name: str, fat: list[int]) -> int:
    dir_chain = _ole_chain(fat, struct.unpack_from("<I", b, 0x30)[0])
    for s in dir_chain:
        for k in range(4):
            e = b[512 + s * 512 + k * 128:][:128]
            if e[:struct.unpack_from("<H", e, 64)[0]].decode("utf-16-le").rstrip("\0") == name:
                return struct.unpack_from("<I", e, 116)[0]
    raise KeyError(name)


def _set_fat(b: bytearray, fat_at: int, sector: int, value: int) -> None:
    struct.pack_into("<I", b, fat_at + 4 * sector, value)


def crafted_ole(xls: bytes) -> Iterator[tuple[str, bytes]]:
    """Legacy .xls (OLE/CFB) files whose allocation tables lie: a sector chain that loops back
    (the workbook stream, the directory, the mini-stream's allocation table), a DIFAT that names
    itself as its own next sector, and a chain pointing far past the end of the file.  A reader
    that follows a chain without remembering where it has been grows without end (#19: 3.5 KB,
    6.6 GB in 5 s)."""
    b, fat, fat_at = _ole(xls)
    book = _ole_chain(fat, _stream_start(b, "Workbook", fat))
    loop = bytearray(b)
    _set_fat(loop, fat_at, book[-1], book[0])
    yield "ole-fat-loop.xls", bytes(loop)
    loop = bytearray(b)
    _set_fat(loop, fat_at, book[0], book[0])
    yield "ole-fat-self.xls", bytes(loop)
    loop = bytearray(b)
    dirs = _ole_chain(fat, struct.unpack_from("<I", b, 0x30)[0])
    _set_fat(loop, fat_at, dirs[-1], dirs[0])
    yield "ole-dir-loop.xls", bytes(loop)
    loop = bytearray(b)
    minifat = struct.unpack_from("<I", b, 0x3C)[0]
    _set_fat(loop, fat_at, minifat, minifat)
    yield "ole-minifat-loop.xls", bytes(loop)
    loop = bytearray(b)
    extra = len(loop) // 512 - 1  # a DIFAT sector appended at the end, naming itself as the next one
    loop += struct.pack("<127I", *([0xFFFFFFFF] * 127)) + struct.pack("<I", extra)
    struct.pack_into("<III", loop, 0x2C, 109 + 127 * 50_000, *struct.unpack_from("<II", loop, 0x30))
    struct.pack_into("<II", loop, 0x44, extra, 50_000)
    yield "ole-difat-loop.xls", bytes(loop)
    far = bytearray(b)
    _set_fat(far, fat_at, book[1], 40_000_000)
    yield "ole-past-end.xls", bytes(far)
    # A password record (FILEPASS, 0x002F) right after the workbook globals' BOF: an .xls with an
    # open password, in the XOR obfuscation of old Excel versions (6 bytes), followed by an
    # INTERFACEHDR so the records after it stay in place: together they fill the three records replaced.
    book_at = 512 + book[0] * 512
    at = book_at + 4 + struct.unpack_from("<H", b, book_at + 2)[0]
    enc = bytearray(b)
    records = struct.pack("<HHHHH", 0x002F, 6, 0, 0x1234, 0x5678) + struct.pack("<HHH", 0x00E1, 2, 0x04B0)
    enc[at:at + len(records)] = records
    yield "xls-password.xls", bytes(enc)


def lying_zip(base: bytes, member: str = SHEET, real: int = 1 << 30, good_crc: bool = False) -> bytes:
    """The roster with the XML of ``member`` (its sheet, or its shared strings) replaced by about
    ``real`` bytes of highly compressible XML whose local and central headers both declare 1 KB:
    a bomb that the declared sizes do not show (#19: 2 MB, 2.2 GB).  With ``good_crc`` the CRC is
    that of the first 1 KB, so a reader that stops at the declared size finds nothing wrong.
    Made in milliseconds: a block compressed once after a full flush is the same bytes every time."""
    ns = b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    if member == SHEET:
        head, tail = b'<?xml version="1.0"?><worksheet' + ns + b"><sheetData>", b"</sheetData></worksheet>"
        item = b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + b"0" * 4000 + b"</t></is></c></row>"
    else:
        head, tail = b'<?xml version="1.0"?><sst' + ns + b">", b"</sst>"
        item = b"<si><t>" + b"0" * 4000 + b"</t></si>"
    block = item * 256
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    sheet = first + again * max(1, real // len(block)) + comp.compress(tail) + comp.flush()
    declared = 1024
    crc = zlib.crc32((head + block)[:declared]) if good_crc else zlib.crc32(b"")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in _members(base):
            if info.filename != member:
                z.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), data)
    data = bytearray(out.getvalue())
    # Append the sheet by hand, with sizes that lie (1 KB declared) in both headers.
    cd_at = data.find(b"PK\x01\x02")
    eocd_at = data.rfind(b"PK\x05\x06")
    entries, central = bytes(data[:cd_at]), bytes(data[cd_at:eocd_at])
    name = member.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(sheet), declared, len(name), 0)
    offset = len(entries)
    entries += local + name + sheet
    central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(sheet), declared,
                           len(name), 0, 0, 0, 0, 0, offset) + name
    count = struct.unpack_from("<H", data, eocd_at + 10)[0] + 1
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(entries), 0)
    return entries + central + eocd


def _inner(base: bytes, rng: random.Random) -> bytes:
    """A valid container around a damaged part: the sheet, the shared strings or the styles mutated
    inside, so that the XML readers (not only the zip check) meet the damage."""
    members = _members(base)
    names = [i.filename for i, _ in members if i.filename.endswith(".xml")]
    target = rng.choice([n for n in names if "sheet1" in n or "sharedStrings" in n or "styles" in n] or names)
    out = []
    for info, data in members:
        if info.filename == target:
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(b))
                b[at:at + rng.randint(1, 4)] = bytes(rng.choice(b'<>"=/ 0123456789AXZ&;') for _ in range(rng.randint(0, 4)))
            data = bytes(b)
        out.append((info.filename, data))
    return _zip(out)


def _mutated(base: bytes, rng: random.Random, k: int) -> tuple[str, bytes]:
    how = rng.choice(("flip", "truncate", "zero", "splice", "inner", "inner"))
    if how == "inner":
        return f"mutant-{k:05d}-inner.xlsx", _inner(base, rng)
    data = bytearray(base)
    if how == "flip":
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == "truncate":
        del data[rng.randrange(len(data)):]
    elif how == "zero":
        at = rng.randrange(len(data))
        data[at:at + rng.randint(1, 512)] = bytes(min(512, len(data) - at))
    else:
        at, size = rng.randrange(len(data)), rng.randint(1, 256)
        data[at:at] = bytes(rng.randrange(256) for _ in range(size))
    return f"mutant-{k:05d}-{how}.xlsx", bytes(data)


def cases(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    bases = [p.read_bytes() for p in SAMPLES]
    crafted = list(_crafted(bases[0]))
    yield from crafted[:count]
    for k in range(count - len(crafted)):
        yield _mutated(bases[k % len(bases)], rng, k)


def main(seed: int, count: int, folder: Path, batch: int = 50) -> None:
    """Read the cases ``batch`` files at a time, as ``weiwen validate`` reads a folder of rosters: one
    damaged file must not stop or change the reading of the others."""
    from weiwen.model.vocab import load_vocabulary
    from weiwen.roster.intake import load_rosters

    vocab = load_vocabulary()
    folder.mkdir(parents=True, exist_ok=True)
    todo = list(cases(seed, count))
    for at in range(0, len(todo), batch):
        paths = []
        for name, data in todo[at:at + batch]:
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
        print(json.dumps({"start": [p.name for p in paths]}, ensure_ascii=False), flush=True)
        t = time.perf_counter()
        intake = load_rosters(paths, vocab=vocab, jobs=1)  # one process: a native abort names its batch
        seconds = round(time.perf_counter() - t, 3)
        for path in paths:
            mine = [p for p in intake.problems if p.file == str(path)]
            print(json.dumps({"name": path.name, "codes": sorted({p.code for p in mine}), "batch_seconds": seconds,
                              "said": [p.message + p.hint + (p.value or "") for p in mine]},
                             ensure_ascii=False), flush=True)
            path.unlink()
    # The peak memory of this process and of the children it waited for (a legacy .xls is read in
    # a forked child under weiwen's budget): kilobytes, as Linux reports them.
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"peak_kb": peak}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
