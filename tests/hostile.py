"""Malformed and crafted rosters, made deterministically from a seed, and a worker that reads them.

``cases(seed, count)`` yields (name, bytes) pairs: damaged containers (truncated, bytes flipped,
members dropped or renamed, lying sizes, an encryption flag), crafted sheets (a cell at XFD1048576,
a whole-sheet merge, a huge cell, error values, formulas), CSV edge cases (unterminated quotes,
fields past Python's limit, a comma that shifts the row so the ID lands in 性别) and random byte
mutations of the sample rosters.  Every case is derived from the sample rosters in samples/ and
the seed alone: the same seed gives the same files.

``python -m tests.hostile SEED COUNT FOLDER`` reads every case through the library as ``weiwen
validate`` does and prints one JSON line per case (name, problem codes, persons, seconds); a case
that kills the process (a native abort) is the last name printed before it died.  The test suite
runs a time-boxed slice (tests/test_hostile.py); the long run is documented in docs/hostile.md.
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
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


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
