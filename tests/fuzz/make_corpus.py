"""Build the seed corpus of tests/fuzz/fuzz_readers.py: ``python -m tests.fuzz.make_corpus``.

The seeds are small on purpose (the fuzzer runs faster on small inputs and mutates them into large
ones itself): the sample rosters and the test fixtures (.xlsx, BIFF8 .xls with hidden sheets), a small
roster written by openpyxl with a title, merged cells, a hidden row, formulas and a footer, the same
persons as CSV in UTF-8, UTF-8 with BOM and GBK, the crafted cases of tests/hostile.py (zips rebuilt
deflated, the two cases over 100 kB left out) and a few of its seeded mutants.  The same command
gives the same files.  Inputs found by fuzzing that once broke weiwen are added by hand as
``found-*`` files and are not touched here.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

from tests.hostile import cases

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
HEADER = ["序号", "村(社区)", "户号", "姓名", "身份证号", "性别", "与户主关系", "类别", "人口数", "联系电话", "银行卡号"]
PERSONS = [
    [1, "王楼村", "001", "袁燕花", "510922195612096542", "女", "户主", "低保", 2, "18541446832", "6228485536762755914"],
    [2, "王楼村", "001", "张 三", "51092219580304651x", "男", "配偶", "低保", 2, "", ""],
    [3, "王楼村", "002", "𠮷䶮", "５１０９２２１９７１０８２９１９６２", "女", "户主", "困难家庭", 1, "191 1346 1070", ""],
    [4, "王楼村", "003", "李四", "5.10922E+17", "男", "户主", "特困", 1, "+8613800138000", "6228482069349486111"],
]


def _small_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["城关镇王楼村2027年春节走访慰问对象花名册"])
    ws.merge_cells("A1:K1")
    ws.append(HEADER)
    for row in PERSONS:
        ws.append(row)
    ws.append(["合计", None, None, None, None, None, None, None, "=SUM(I3:I6)"])
    ws.append(["经办人签字：", None, None, "审核人："])
    ws.merge_cells("C3:C4")
    ws.row_dimensions[5].hidden = True
    ws["E6"].value = 510922197108291962  # an ID typed as a number
    stale = wb.create_sheet("旧数据")
    stale.append(HEADER)
    stale.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return _redeflate(out.getvalue())


def _csv(encoding: str) -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(c) for c in row) for row in PERSONS]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _redeflate(data: bytes) -> bytes:
    """The same zip, its members deflated and dated 1980: small and byte-stable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [(i.filename, z.read(i)) for i in z.infolist()]
    except zipfile.BadZipFile:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in members:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for p in sorted((ROOT / "samples" / "rosters").glob("*.xlsx")):
        out[f"sample-{p.name.split('-')[0]}.xlsx"] = p.read_bytes()
    for p in sorted((ROOT / "tests" / "fixtures").glob("*.xls*")):
        out[f"fixture-{p.name}"] = p.read_bytes()
    out["small.xlsx"] = _small_xlsx()
    out["small-utf8.csv"] = _csv("utf-8")
    out["small-bom.csv"] = b"\xef\xbb\xbf" + _csv("utf-8")
    out["small-gb18030.csv"] = _csv("gb18030")
    for name, data in cases(2027, 40):
        if len(data) > 100_000 and not name.endswith(".xlsx"):
            continue
        if name.startswith("mutant-") and len([n for n in out if n.startswith("hostile-mutant-")]) >= 12:
            continue
        data = _redeflate(data) if name.endswith(".xlsx") and "encrypted" not in name and "truncate" not in name \
            and "flip" not in name and "splice" not in name and "zero" not in name else data
        if len(data) <= 100_000:
            out[f"hostile-{name}"] = data
    return out


def main(folder: Path = CORPUS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if not old.name.startswith("found-"):
            old.unlink()
    for name, data in seeds().items():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
