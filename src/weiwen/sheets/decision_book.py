"""Write the allocation: 慰问明细.xlsx (明细, 公示, 签领表, 汇总, 未纳入) and allocation.csv.

The workbooks are written with rustpy-xlsxwriter (a binding of Rust's rust_xlsxwriter): a
prefecture's 400,000 households take seconds instead of minutes (docs/performance.md).
Every sheet has a title, a frozen header, column widths for Chinese text, borders, ¥
formats and an A4 print setup with the header repeated and page numbers.  Text is always
written as text: no value becomes a formula or a link.  Totals are values weiwen computed
exactly, written in the totals row.  Document timestamps are fixed afterwards, so the same
inputs give the same bytes.

Length: every sheet of 慰问明细.xlsx, the per-village sign sheets and the second process that
writes them share one set of formats and one row model; split apart they would import each
other's internals.
"""

from __future__ import annotations

import contextlib
import functools
import io
import multiprocessing
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import rustpy_xlsxwriter as rx

from weiwen.core import jsonout
from weiwen.decision import Decision, goods_total
from weiwen.summary import summary
from weiwen.model.frames import goods_column
from weiwen.sheets.payment_csv import PAYMENT_NEEDS, write_payment_csv, write_persons_csv
from weiwen.engine.amounts import yuan
from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_ids
from weiwen.core.atomic import fit_name, write_atomic, write_text_atomic
from weiwen.sheets.xlsx import normalize_xlsx
from weiwen.core.text import display_lines, text_series

SIGN_NEEDS = ("village", "head_name", "head_id", "size", "applied_names", "cash_fen")  # and the goods columns
SIGN_SHEETS_INLINE = 50  # more villages than this: one sign-sheet workbook per village
PRESTART_BYTES = 4 << 20  # rosters this large (tens of thousands of persons) likely have more villages
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MONEY = "¥#,##0.00"
A4_LANDSCAPE = {"landscape": True, "paper_size": 9, "repeat_rows": 1, "fit_to_pages": (1, 0),
                "margins": {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6},
                "footer": "&C第 &P 页，共 &N 页"}


def mask_names(names: pd.Series) -> pa.Array:
    """Names for posting, masked in Arrow: 张*三 (three or more characters keep the first and the
    last), 李* (two keep the first), a single character as it is; lengths count characters."""
    cells = pa.array(names, type=pa.large_string()).fill_null("")
    length = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
    stars = np.where(length >= 3, length - 2, np.where(length == 2, 1, 0))
    last = pc.if_else(pa.array(length >= 3), pc.utf8_slice_codeunits(cells, -1), pa.scalar("", pa.large_string()))
    star, empty = pa.scalar("*", pa.large_string()), pa.scalar("", pa.large_string())
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(cells, 0, 1), pc.binary_repeat(star, pa.array(stars)),
                                       last, empty)


@functools.lru_cache(maxsize=65536)
def capital(amount: Decimal) -> str:
    """Amount in capital Chinese numerals, as on a receipt: 壹仟壹佰元整 (amounts repeat: cached)."""
    if amount == 0:
        return "零元整"
    import cn2an  # 0.25 s to import: only the sign sheets need it

    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def sheet_name(text: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text).strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


class _Formats:
    """The few cell formats every sheet uses."""

    def __init__(self) -> None:
        f = rx.Format
        self.title = f().set_bold().set_font_size(16).set_align("center").set_align("vcenter")
        self.sub = f().set_font_size(11)
        self.head = (f().set_bold().set_border("thin").set_align("center").set_align("vcenter").set_text_wrap()
                     .set_background_color("#DDEBF7"))
        self.text = f().set_border("thin").set_align("vcenter")
        self.center = f().set_border("thin").set_align("center").set_align("vcenter")
        self.wrap = f().set_border("thin").set_align("vcenter").set_text_wrap()
        self.money = f().set_border("thin").set_align("vcenter").set_num_format(MONEY)
        self.qty = f().set_border("thin").set_align("vcenter").set_num_format("#,##0.###")
        self.total = f().set_bold().set_border("thin").set_align("vcenter").set_background_color("#F2F2F2")


@contextlib.contextmanager
def second_process(rosters: Sequence[Path]) -> Iterator[ProcessPoolExecutor | None]:
    """The process that will write the sign sheets and the CSV, started now when the rosters are
    large (its second of start-up then overlaps reading them); ``None`` for small rosters."""
    size = sum(p.stat().st_size for p in rosters if p.is_file())
    if size < PRESTART_BYTES:
        yield None
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_ready)  # the worker imports this module while this process reads the rosters
        yield pool


def _ready() -> None:
    """Nothing: loading this function in the worker is what loads the writer there."""


def write_outputs(decision: Decision, out_dir: Path, title: str, inputs: Sequence[Path] = (),
                  helper: ProcessPoolExecutor | None = None, *, sign_sheets: bool = True) -> list[Path]:
    """Write every output into ``out_dir``; refuse to overwrite any of ``inputs``.  ``helper`` is
    a :func:`second_process` already started (one is started here if it is needed and missing).

    Without ``sign_sheets`` (a list version that is not yet approved) no sign sheet is written;
    instead decision.arrow keeps what they are made of, for :func:`write_sign_sheets` at approval."""
    if out_dir.exists() and not out_dir.is_dir():
        raise WeiwenError(f"输出位置 {out_dir} 是一个文件，请用 -o 指定一个文件夹。")
    targets = {(out_dir / n).resolve() for n in ("慰问明细.xlsx", "allocation.csv")}
    clash = [p for p in inputs if p.resolve() in targets]
    if clash:
        raise WeiwenError(f"输出会覆盖输入文件 {clash[0]}，请换一个 -o 文件夹。")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = decision.table
    ids = mask_ids(pa.array(table["head_id"], type=pa.large_string()))  # 公示名单 shows them masked
    inline = table["village"].nunique() <= SIGN_SHEETS_INLINE or not sign_sheets
    xlsx = out_dir / "慰问明细.xlsx"
    csv_path = out_dir / "allocation.csv"
    persons_path = out_dir / "persons.csv"
    wanted = list(dict.fromkeys([*SIGN_NEEDS, *map(goods_column, decision.goods), *PAYMENT_NEEDS, "household"]))

    def main(tmp: Path) -> None:
        fmt = _Formats()
        book = rx.FastExcel(str(tmp))
        used: set[str] = set()
        _detail(book, fmt, decision, title, used)
        _public(book, fmt, decision, title, used, ids)
        if inline and sign_sheets:
            sign = _SignRows(table, decision.goods, title)
            for k in range(len(sign.villages)):
                sign.write(book, fmt, k, sheet_name(f"签领表-{sign.villages[k]}", used))
        _summary(book, fmt, decision, title, used)
        _left_out(book, fmt, decision, used)
        book.save()
        normalize_xlsx(tmp)

    frozen: list[Path] = []
    if inline:
        write_atomic(xlsx, main)
        write_payment_csv(csv_path, table)
        write_persons_csv(persons_path, table, decision.members)
        signs: list[Path] = []
        if not sign_sheets:
            arrow_path = out_dir / DECISION_ARROW
            columns = pa.Table.from_pandas(table[wanted], preserve_index=False)
            write_atomic(arrow_path, lambda tmp: _write_arrow(tmp, columns))
            frozen.append(arrow_path)
    else:
        # One sign-sheet workbook per village and the CSV, written by a second process while this
        # one writes 慰问明细.xlsx: each side is about half the work.  (A second thread would
        # mostly wait: the writer holds the GIL while it takes rows in.)  The columns go over as
        # an Arrow table, which pickles as flat buffers.
        columns = pa.Table.from_pandas(table[wanted], preserve_index=False)
        members = pa.Table.from_pandas(decision.members, preserve_index=False)
        with contextlib.ExitStack() as stack:
            pool = helper or stack.enter_context(
                ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")))
            other = pool.submit(_sign_files_and_csv, columns, members, decision.goods, title, out_dir / "签领表",
                                csv_path, persons_path)
            write_atomic(xlsx, main)
            signs = other.result()
    summary_path = out_dir / "summary.json"
    write_text_atomic(summary_path, jsonout.dumps(summary(decision)))
    return [xlsx, *signs, csv_path, persons_path, summary_path, *frozen]


DECISION_ARROW = "decision.arrow"  # a list version's sign-sheet data, kept until it is approved


def _write_arrow(path: Path, columns: pa.Table) -> None:
    import pyarrow.ipc as ipc

    with ipc.new_file(str(path), columns.schema) as writer:
        writer.write_table(columns)


def write_sign_sheets(out_dir: Path, goods: list[tuple[str, str]], title: str, folder: Path) -> list[Path]:
    """The sign sheets of an approved version, one workbook per village into ``folder``, from the
    decision.arrow that allocate kept in ``out_dir`` (its digest is checked by the caller)."""
    import pyarrow.ipc as ipc

    with ipc.open_file(str(out_dir / DECISION_ARROW)) as reader:
        table = reader.read_all().to_pandas()
    return _sign_files(_SignRows(table, goods, title), folder)


def _sign_files_and_csv(columns: pa.Table, members: pa.Table, goods: list[tuple[str, str]], title: str,
                        folder: Path, csv_path: Path, persons_path: Path) -> list[Path]:
    """The sign-sheet workbooks, one per village, allocation.csv and persons.csv (runs in the second process)."""
    table = columns.to_pandas()
    write_payment_csv(csv_path, table)
    write_persons_csv(persons_path, table, members.to_pandas())
    return _sign_files(_SignRows(table, goods, title), folder)


def _sign_files(sign: _SignRows, folder: Path) -> list[Path]:
    """Sign-sheet workbooks, one per village: 0001-东关村.xlsx …"""
    fmt = _Formats()
    width = len(str(len(sign.villages)))
    out = []
    for k, village in enumerate(sign.villages):
        safe = _SHEET_BAD.sub("_", village).replace("..", "_") or "未填村名"
        target = folder / fit_name(f"{k + 1:0{width}d}-{safe}", ".xlsx")

        def one(tmp: Path, k: int = k) -> None:
            buf = io.BytesIO()  # a small workbook: made and fixed in memory, written once
            book = rx.FastExcel(buf)
            sign.write(book, fmt, k, "签领表")
            book.save()
            normalize_xlsx(buf)
            tmp.write_bytes(buf.getbuffer())

        write_atomic(target, one)
        out.append(target)
    return out


@dataclass
class _Rows:
    """Rows as dicts in column order: for small sheets the writer takes these faster than a frame."""

    columns: list[str]
    records: list[dict[str, object]]

    @property
    def empty(self) -> bool:
        return not self.records

    def __len__(self) -> int:
        return len(self.records)


def _sheet(book: rx.FastExcel, name: str, frame: pd.DataFrame | _Rows, title: str, fmt: _Formats,
           formats: list[object], widths: list[int], *, subtitles: tuple[str, ...] = (), totals_at: tuple[int, ...] = (),
           landscape: bool = True, row_height: int | None = None, autofilter: bool = False,
           signatures: str = "", heights: dict[int, float] | None = None) -> None:
    """One titled table: title and subtitle lines merged above the header, then the rows.

    A frame goes to the writer as it is (its columns are read through Arrow, no row objects in
    Python).  ``signatures`` goes to the left of every printed page's footer (制表人/审核人 lines).
    """
    header_row = 1 + len(subtitles)
    last = len(frame.columns) - 1
    merges: list[tuple[object, ...]] = [(0, 0, 0, last, title, fmt.title)]
    merges += [(1 + i, 0, 1 + i, last, line, fmt.sub) for i, line in enumerate(subtitles)]
    rows = frame.records if isinstance(frame, _Rows) else frame
    if frame.empty:  # a header is still wanted, and one line saying there is nothing
        rows = pd.DataFrame({frame.columns[0]: ["（无）"], **{c: [""] for c in frame.columns[1:]}})
    first_data = header_row + 1
    footer = (f"&L{signatures}" if signatures else "") + "&R第 &P 页，共 &N 页"
    setup = dict(A4_LANDSCAPE, landscape=landscape, repeat_rows=header_row, footer=footer)
    row_heights = {0: 28}
    if row_height:
        row_heights.update({first_data + i: row_height for i in range(len(frame))})
    row_heights.update(heights or {})
    book.freeze(row=header_row + 1, sheet=name)
    book.sheet(
        name, rows, header_row=header_row, merge_ranges=merges, header_format=fmt.head,
        column_formats=dict(zip(frame.columns, formats, strict=True)),
        column_widths=dict(zip(frame.columns, widths, strict=True)),
        row_heights=row_heights, row_formats={first_data + i: fmt.total for i in totals_at},
        page_setup=setup, autofilter=autofilter,
    )


def _money_col(fen: pd.Series) -> np.ndarray:
    """Fen to yuan for display cells (exact to the fen; the sums come from the integer fen)."""
    return fen.to_numpy(dtype=np.int64) / 100


def _detail(book: rx.FastExcel, fmt: _Formats, d: Decision, title: str, used: set[str]) -> None:
    t = d.table
    goods_heads = [f"{item}（{unit}）" for item, unit in d.goods]
    frame = pd.DataFrame({
        "序号": [str(i) for i in range(1, len(t) + 1)], "村(社区)": t["village"], "户号": t["household_no"],
        "户主": t["head_name"], "身份证号": t["head_id"], "人口数": _int_text(t["size"]),
        "享受人数": t["persons"].astype(str), "类别": t["categories"], "享受标准": t["applied_names"],
        "未享受标准": _blank_if_empty(t["suppressed"]), "现金（元）": _money_col(t["cash_fen"]),
        **{h: _blank_if_empty(t[goods_column(k)].astype(float)) for h, k in zip(goods_heads, d.goods, strict=True)},
        "物资折价（元）": _money_col(t["goods_fen"]), "合计（元）": _money_col(t["total_fen"]),
        "核定依据": t["reason"],
        "备注": [f"封顶扣减 {yuan(int(c))} 元" if c else None for c in t["capped_fen"]],
    })
    totals = {c: "" for c in frame.columns}
    totals.update({"序号": "合计", "村(社区)": f"{len(t)} 户", "现金（元）": float(d.cash),
                   "物资折价（元）": float(d.goods_value), "合计（元）": float(d.total)})
    totals.update({h: goods_total(d, k) for h, k in zip(goods_heads, d.goods, strict=True)})
    frame = pd.concat([frame, pd.DataFrame([totals])], ignore_index=True)
    formats = ([fmt.center, fmt.text, fmt.text, fmt.text, fmt.text, fmt.center, fmt.center, fmt.text, fmt.text,
                fmt.wrap, fmt.money] + [fmt.qty] * len(goods_heads) + [fmt.money, fmt.money, fmt.wrap, fmt.text])
    widths = [6, 12, 8, 10, 21, 7, 8, 16, 18, 22, 12] + [10] * len(goods_heads) + [12, 12, 36, 16]
    _sheet(book, sheet_name("慰问明细", used), frame, f"{title} 慰问明细表", fmt, formats, widths,
           totals_at=(len(t),), autofilter=True)


def _public(book: rx.FastExcel, fmt: _Formats, d: Decision, title: str, used: set[str], ids: pa.Array) -> None:
    """For posting: names and IDs masked, no phone or bank columns, grouped by village."""
    t = d.table  # already sorted by village
    frame = pd.DataFrame({
        "序号": [str(i) for i in range(1, len(t) + 1)], "村(社区)": t["village"],
        "户主": text_series(mask_names(t["head_name"])), "身份证号": text_series(ids),
        "人口数": _int_text(t["size"]), "享受标准": t["applied_names"],
        "金额（元）": _money_col(t["total_fen"]), "其中物资折价（元）": _money_col(t["goods_fen"]),
    })
    totals = {"序号": "合计", "村(社区)": f"{len(t)} 户", "户主": "", "身份证号": "", "人口数": "", "享受标准": "",
              "金额（元）": float(d.total), "其中物资折价（元）": float(d.goods_value)}
    frame = pd.concat([frame, pd.DataFrame([totals])], ignore_index=True)
    formats = [fmt.center, fmt.text, fmt.text, fmt.text, fmt.center, fmt.text, fmt.money, fmt.money]
    _sheet(book, sheet_name("公示名单", used), frame, f"{title} 慰问对象公示名单", fmt, formats,
           [6, 14, 10, 21, 8, 30, 12, 14], totals_at=(len(t),), landscape=False,
           subtitles=("公示期 3 天。对公示对象有异议的，请向镇（街道）民政办反映；举报属实的，取消慰问资格，不予补缺。",))


class _SignRows:
    """The sign sheets' rows for every village, prepared once for the whole table (sorted by village)."""

    def __init__(self, t: pd.DataFrame, goods: list[tuple[str, str]], title: str) -> None:
        n = len(t)
        self.title = title
        village = t["village"].to_numpy(dtype=object)
        self.starts = np.r_[0, np.flatnonzero(village[1:] != village[:-1]) + 1, n] if n else np.zeros(1, np.int64)
        self.villages = [str(village[i]) for i in self.starts[:-1]]
        self.cash_fen = t["cash_fen"].to_numpy(dtype=np.int64)
        self.cash = (self.cash_fen / 100).tolist()
        # Amounts and goods repeat: each distinct one is spelled out once.
        amounts, which = np.unique(self.cash_fen, return_inverse=True)
        spelled = [capital(yuan(int(a))) for a in amounts.tolist()]
        self.capital = [spelled[w] for w in which.ravel().tolist()]
        self.goods = [""] * n
        if goods and n:
            qty = np.column_stack([t[goods_column(k)].to_numpy(dtype=float) for k in goods])
            patterns, which = np.unique(qty, axis=0, return_inverse=True)
            texts = ["、".join(f"{item}{q:g}{unit}" for (item, unit), q in zip(goods, row, strict=True) if q)
                     for row in patterns.tolist()]
            self.goods = [texts[w] for w in which.ravel().tolist()]
        self.head = t["head_name"].tolist()
        self.ids = mask_ids(pa.array(t["head_id"], type=pa.large_string())).to_pylist()
        self.size = _int_text(t["size"])
        self.applied = t["applied_names"].tolist()

    NEEDS = SIGN_NEEDS  # and the goods columns
    COLUMNS = ("序号", "户主", "身份证号", "人口数", "享受标准", "现金（元）", "金额大写", "物资", "领取人签字", "领取日期")

    def rows(self, k: int) -> _Rows:
        """Village ``k``'s rows and totals line (as row dicts: for a few hundred rows the writer takes
        those faster than a frame)."""
        a, b = int(self.starts[k]), int(self.starts[k + 1])
        total = int(self.cash_fen[a:b].sum())
        columns = (map(str, range(1, b - a + 1)), self.head[a:b], self.ids[a:b], self.size[a:b], self.applied[a:b],
                   self.cash[a:b], self.capital[a:b], self.goods[a:b])
        records = [dict(zip(self.COLUMNS, (*row, "", ""), strict=True)) for row in zip(*columns, strict=True)]
        records.append(dict(zip(self.COLUMNS, ("合计", f"{b - a} 户", "", "", "", total / 100, capital(yuan(total)),
                                               "", "", ""), strict=True)))
        return _Rows(list(self.COLUMNS), records)

    def write(self, book: rx.FastExcel, fmt: _Formats, k: int, name: str) -> None:
        frame = self.rows(k)
        formats = [fmt.center, fmt.wrap, fmt.text, fmt.center, fmt.wrap, fmt.money, fmt.wrap, fmt.wrap, fmt.text,
                   fmt.text]
        rows = len(frame) - 1
        _sheet(book, name, frame, f"{self.title} 发放签领表", fmt, formats, [5, 9, 21, 6, 18, 11, 20, 22, 16, 12],
               subtitles=(f"村(社区)：{self.villages[k]}        发放单位（盖章）：                    "
                          "发放日期：    年   月   日", "本人签字领取，不得代签；足额发放，不得拆分。"),
               totals_at=(rows,), row_height=30, signatures="制表人：          审核人：          发放人：")


def _blank_if_empty(values: pd.Series) -> pd.Series:
    """No goods of an item (0) or no text: an empty cell, not a 0 or an empty string.  Most
    households get one or two of the items, so this leaves a quarter of the sheet's cells out
    (the column's borders still show)."""
    return values.where((values != 0) & (values != ""))


def _int_text(values: pd.Series) -> list[str]:
    """Whole numbers as text ("" where missing)."""
    numbers = values.astype("Int64")
    return numbers.astype(str).where(numbers.notna(), "").tolist()


def _summary(book: rx.FastExcel, fmt: _Formats, d: Decision, title: str, used: set[str]) -> None:
    """By village, by standard and the goods to buy, in one printable table."""
    rows: list[dict[str, object]] = []

    def add(kind: str, name: str, households: object = "", persons: object = "", cash: object = "",
            goods: object = "", total: object = "", qty: object = "", unit: str = "") -> None:
        rows.append({"分类": kind, "名称": name, "户数": households, "人数/人次": persons, "现金（元）": cash,
                     "物资折价（元）": goods, "合计（元）": total, "物资数量": qty, "单位": unit})

    totals_at = []
    for village, s in d.by_village.items():
        add("按村(社区)", village, s["households"], s["persons"], float(s["cash"]), float(s["goods_value"]),
            float(s["total"]))
    totals_at.append(len(rows))
    add("按村(社区)", "合计", len(d.table), d.persons_aided, float(d.cash), float(d.goods_value), float(d.total))
    for s in d.by_standard.values():
        add("按慰问标准", str(s["name"]), s["households"], s.get("units", ""), float(s["cash"]),  # type: ignore[arg-type]
            float(s.get("goods_value", 0)), float(s["total"]))  # type: ignore[arg-type]
    totals_at.append(len(rows))
    add("按慰问标准", "合计", "", "", float(d.cash), float(d.goods_value), float(d.total))
    for item, unit in d.goods:
        add("物资采购", item, qty=goods_total(d, (item, unit)), unit=unit)
    frame = pd.DataFrame(rows)
    formats = [fmt.text, fmt.text, fmt.center, fmt.center, fmt.money, fmt.money, fmt.money, fmt.qty, fmt.center]
    _sheet(book, sheet_name("汇总", used), frame, f"{title} 汇总表", fmt, formats, [12, 30, 8, 10, 14, 14, 14, 10, 6],
           totals_at=tuple(totals_at), landscape=False)


def _left_out(book: rx.FastExcel, fmt: _Formats, d: Decision, used: set[str]) -> None:
    files = _short_paths([x.file for x in d.left_out])
    frame = pd.DataFrame(
        [{"类型": x.kind, "文件": files[x.file], "工作表": x.sheet, "行": str(x.row), "村(社区)": x.village,
          "姓名": x.name, "身份证号": x.id_masked, "原因": x.reason} for x in d.left_out],
        columns=["类型", "文件", "工作表", "行", "村(社区)", "姓名", "身份证号", "原因"],
    )
    formats = [fmt.text, fmt.wrap, fmt.text, fmt.center, fmt.text, fmt.text, fmt.text, fmt.wrap]
    widths = [10, 28, 10, 6, 12, 10, 21, 60]
    lines = [max(display_lines(f, widths[1]), display_lines(r, widths[7])) for f, r in zip(frame["文件"], frame["原因"],
                                                                                              strict=True)]
    _sheet(book, sheet_name("未纳入", used), frame, "未纳入核定的行和户", fmt, formats, widths, autofilter=True,
           heights={2 + i: 15 * n for i, n in enumerate(lines) if n > 1})


def _short_paths(files: list[str]) -> dict[str, str]:
    """Each input as shown in 未纳入: relative to the folder all of them share (the village files of
    one folder by their names), so long paths do not fill the column."""
    distinct = sorted(set(files))
    if not distinct:
        return {}
    try:
        common = os.path.commonpath([os.path.dirname(f) or "." for f in distinct])
    except ValueError:  # absolute and relative paths mixed, or different drives
        return {f: f for f in distinct}
    return {f: os.path.relpath(f, common) if common else f for f in distinct}
