"""Write the allocation: 慰问明细.xlsx (明细, 签领表, 汇总, 未纳入), 公示名单, 审批表.xlsx, allocation.csv.

The workbooks are written with rustpy-xlsxwriter (a binding of Rust's rust_xlsxwriter): a
prefecture's 400,000 households take seconds instead of minutes (docs/performance.md).
Every sheet has a title, a frozen header, column widths for Chinese text, borders, amount
formats and an A4 print setup (weiwen.sheets.printed): the title, subtitle lines and header
repeated on every page, page numbers, a readable printed size.  Text is always written as text:
no value becomes a formula or a link.  Totals are values weiwen computed exactly, written in the
totals row.  Document timestamps are fixed afterwards, so the same inputs give the same bytes.

The public list (weiwen.sheets.public_book) is its own workbook, a sheet per village; the
approval form (weiwen.sheets.approval_book) one page.  With many villages (more than
SIGN_SHEETS_INLINE) each village's public list and sign sheet is a workbook of its own, written
by a second process while this one writes 慰问明细.xlsx.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import rustpy_xlsxwriter as rx

from weiwen.core import jsonout
from weiwen.core.atomic import fit_name, write_atomic, write_text_atomic
from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_ids
from weiwen.decision import Decision, goods_total
from weiwen.engine.amounts import yuan
from weiwen.model.frames import goods_column
from weiwen.model.recipients import RecipientKind
from weiwen.sheets.lines_book import write_line_outputs
from weiwen.sheets.approval_book import APPROVAL_BOOK, write_approval
from weiwen.sheets.payment_csv import PAYMENT_NEEDS, write_payment_csv, write_persons_csv
from weiwen.sheets.printed import (Formats, Rows, blank_if_empty, capital, fit_widths, heights_of, int_text,
                                   money_col, money_width, page_numbers, print_scale, sheet_name, small_book,
                                   text_lines, titled_sheet, village_file_stem, widest)
from weiwen.sheets.public_book import (DATE_BLANK, PUBLIC_BOOK, PUBLIC_FOLDER, PublicRows, posting,
                                       queue_public_files, write_public_book)
from weiwen.sheets.xlsx import normalize_xlsx
from weiwen.summary import summary

SIGN_NEEDS = ("village", "head_name", "head_id", "size", "applied_names", "cash_fen")  # and the goods columns
SIGN_SHEETS_INLINE = 50  # more villages than this: one sign-sheet and one public-list workbook per village
PRESTART_BYTES = 4 << 20  # rosters this large (tens of thousands of persons) likely have more villages
DETAIL_POINTS = 8  # 慰问明细 prints at this size or larger: goods as one column when theirs would not fit
SIGNATURES = "&L" + "\u3000\u3000".join(f"{who}：{'_' * 16}" for who in ("制表人", "审核人", "发放人")) + "&R"
SEAL_SPACE = "\u3000" * 10
SIGN_MARGINS = {"bottom": 1.0, "footer": 0.45}  # room above the footer line to sign on every page


@contextlib.contextmanager
def second_process(rosters: Sequence[Path]) -> Iterator[ProcessPoolExecutor | None]:
    """The process that will write the village workbooks and the CSV, started now when the rosters
    are large (its second of start-up then overlaps reading them); ``None`` for small rosters."""
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
    Each file is written atomically; allocate passes a staging folder here and switches the whole
    set into the user's folder afterwards (:mod:`weiwen.core.output_set`), so files written here
    never stand beside the previous run's.

    The public list is always written (it is posted before the list is approved).  Without
    ``sign_sheets`` (a list version that is not yet approved) no sign sheet is written; instead
    decision.arrow keeps what they are made of, for :func:`write_sign_sheets` at approval."""
    if out_dir.exists() and not out_dir.is_dir():
        raise WeiwenError(f"输出位置 {out_dir} 是一个文件，请用 -o 指定一个文件夹。")
    if decision.kind is not RecipientKind.HOUSEHOLD:
        return write_line_outputs(decision, out_dir, title)
    targets = {(out_dir / n).resolve() for n in ("慰问明细.xlsx", "allocation.csv", PUBLIC_BOOK, APPROVAL_BOOK)}
    clash = [p for p in inputs if p.resolve() in targets]
    if clash:
        raise WeiwenError(f"输出会覆盖输入文件 {clash[0]}，请换一个 -o 文件夹。")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = decision.table
    many = table["village"].nunique() > SIGN_SHEETS_INLINE
    xlsx, approval = out_dir / "慰问明细.xlsx", out_dir / APPROVAL_BOOK
    csv_path = out_dir / "allocation.csv"
    persons_path = out_dir / "persons.csv"
    publicity = decision.plan.rules.publicity
    post = posting(title, days=publicity.days, start=publicity.start, office=publicity.office, phone=publicity.phone)
    wanted = list(dict.fromkeys([*SIGN_NEEDS, *map(goods_column, decision.goods), *PAYMENT_NEEDS, "household"]))

    def main(tmp: Path) -> None:
        fmt = Formats()
        book = rx.FastExcel(str(tmp))
        used: set[str] = set()
        _detail(book, fmt, decision, title, used)
        if sign_sheets and not many:
            sign = SignRows(table, decision.goods, title)
            for k in range(len(sign.villages)):
                sign.write(book, fmt, k, sheet_name(f"签领表-{sign.villages[k]}", used), alone=False)
        _summary(book, fmt, decision, title, used)
        _left_out(book, fmt, decision, used)
        book.save()
        normalize_xlsx(tmp)

    columns = pa.Table.from_pandas(table[wanted], preserve_index=False) if many or not sign_sheets else None
    signs: list[Path] = []
    if not many:
        write_atomic(xlsx, main)
        public = [out_dir / PUBLIC_BOOK]
        write_public_book(public[0], PublicRows(table, post))
        write_approval(approval, decision, title)
        write_payment_csv(csv_path, table)
        write_persons_csv(persons_path, table, decision.members)
    else:
        # The sign sheets and the CSV, then each village's public list, are written by a second
        # process while this one writes 慰问明细.xlsx: each side is about half the work, and the
        # public lists the second process has not started when this one is done are written here.
        # (A second thread would mostly wait: the writer holds the GIL while it takes rows in.)
        # The columns go over as Arrow tables, which pickle as flat buffers.
        members = pa.Table.from_pandas(decision.members, preserve_index=False)
        with contextlib.ExitStack() as stack:
            pool = helper or stack.enter_context(
                ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")))
            other = pool.submit(_village_files_and_csv, columns, members, decision.goods, title,
                                out_dir / "签领表" if sign_sheets else None, csv_path, persons_path)
            public_files = queue_public_files(pool, table, post, out_dir / PUBLIC_FOLDER)
            write_atomic(xlsx, main)
            write_approval(approval, decision, title)
            public = public_files()
            signs = other.result()
    frozen: list[Path] = []
    if not sign_sheets:
        arrow_path = out_dir / DECISION_ARROW
        write_atomic(arrow_path, lambda tmp: _write_arrow(tmp, columns))
        frozen.append(arrow_path)
    summary_path = out_dir / "summary.json"
    write_text_atomic(summary_path, jsonout.dumps(summary(decision)))
    return [xlsx, approval, *public, *signs, csv_path, persons_path, summary_path, *frozen]


DECISION_ARROW = "decision.arrow"  # a list version's sign-sheet data, kept until it is approved


def _write_arrow(path: Path, columns: pa.Table | None) -> None:
    import pyarrow.ipc as ipc

    assert columns is not None
    with ipc.new_file(str(path), columns.schema) as writer:
        writer.write_table(columns)


def write_sign_sheets(out_dir: Path, goods: list[tuple[str, str]], title: str, folder: Path) -> list[Path]:
    """The sign sheets of an approved version, one workbook per village into ``folder``, from the
    decision.arrow that allocate kept in ``out_dir`` (its digest is checked by the caller)."""
    import pyarrow.ipc as ipc

    with ipc.open_file(str(out_dir / DECISION_ARROW)) as reader:
        table = reader.read_all().to_pandas()
    return sign_files(SignRows(table, goods, title), folder)


def _village_files_and_csv(columns: pa.Table, members: pa.Table, goods: list[tuple[str, str]], title: str,
                           sign_folder: Path | None, csv_path: Path, persons_path: Path) -> list[Path]:
    """allocation.csv, persons.csv and (with ``sign_folder``) the sign-sheet workbooks, one per
    village (runs in the second process)."""
    table = columns.to_pandas()
    write_payment_csv(csv_path, table)
    write_persons_csv(persons_path, table, members.to_pandas())
    return sign_files(SignRows(table, goods, title), sign_folder) if sign_folder else []


def sign_files(sign: SignRows, folder: Path) -> list[Path]:
    """Sign-sheet workbooks, one per village: 0001-东关村.xlsx …"""
    fmt = Formats()
    out = []
    for k, village in enumerate(sign.villages):
        target = folder / fit_name(village_file_stem(k, len(sign.villages), village), ".xlsx")
        small_book(target, lambda book, k=k: sign.write(book, fmt, k, "签领表"))
        out.append(target)
    return out


def goods_texts(t: pd.DataFrame, goods: list[tuple[str, str]]) -> list[str]:
    """Each household's goods as one text: 面粉25公斤、清油5升 (each distinct set spelled out once;
    the sets found by hashing, not by sorting the rows)."""
    if not goods or not len(t):
        return [""] * len(t)
    qty = np.column_stack([t[goods_column(k)].to_numpy(dtype=float) for k in goods])
    which = np.zeros(len(t), dtype=np.int64)
    for j in range(len(goods)):
        codes, uniques = pd.factorize(qty[:, j])
        which = pd.factorize(which * (len(uniques) + 1) + codes)[0]  # numbered by first appearance
    first = np.unique(which, return_index=True)[1]  # each set's first row, in the sets' order
    texts = ["、".join(f"{item}{q:g}{unit}" for (item, unit), q in zip(goods, qty[row].tolist(), strict=True) if q)
             for row in first.tolist()]
    return [texts[w] for w in which.tolist()]


# 慰问明细's wrapped columns: their width, and the narrowest they are made when the amounts' columns
# grow (a large total) and the sheet would print smaller than DETAIL_POINTS.
DETAIL_WRAPPED = {"村(社区)": (9, 9), "户号": (6, 6), "户主": (7, 7), "类别": (10, 8), "享受标准": (14, 10),
                  "未享受标准": (11, 8), "物资": (20, 12), "核定依据": (20, 14), "备注": (8, 6)}


def _detail(book: rx.FastExcel, fmt: Formats, d: Decision, title: str, used: set[str]) -> None:
    """Every household on A4 landscape at DETAIL_POINTS or larger: narrow wrapped columns, each
    goods item a column of its own when they fit, else the goods as one wrapped text column."""
    t = d.table
    n = len(t)
    cash_fen = int(t["cash_fen"].sum()) if n else 0
    goods_fen = int(t["goods_fen"].sum()) if n else 0
    money = {"现金（元）": money_width(cash_fen, 10, sign=False), "物资折价\n（元）": money_width(goods_fen, 10, sign=False),
             "合计（元）": money_width(cash_fen + goods_fen, 10, sign=False)}
    columns: dict[str, object] = {
        "序号": [str(i) for i in range(1, n + 1)], "村(社区)": t["village"], "户号": t["household_no"],
        "户主": t["head_name"], "身份证号": t["head_id"], "人口数": int_text(t["size"]),
        "享受人数": t["persons"].astype(str), "类别": t["categories"], "享受标准": t["applied_names"],
        "未享受标准": blank_if_empty(t["suppressed"]), "现金（元）": money_col(t["cash_fen"]),
    }
    totals: dict[str, object] = {"序号": "合计", "村(社区)": f"{n} 户", "现金（元）": cash_fen / 100}
    items = {f"{item}\n({unit})": k for item, unit in d.goods for k in [(item, unit)]}
    widths = {"序号": max(5, len(str(n)) + 1), "身份证号": 19, "人口数": 5, "享受人数": 5, **money,
              **{h: max(6.0, len(f"{goods_total(d, k):,g}") + 1.5) for h, k in items.items()},
              **{h: w for h, (w, _) in DETAIL_WRAPPED.items()},
              # villages and heads on one line when their names allow (黄土坡社区, 欧阳秀英)
              "村(社区)": min(13, max(9, widest(t["village"]) + 1)), "户主": min(9, max(7, widest(t["head_name"]) + 1))}
    tail = ["物资折价\n（元）", "合计（元）", "核定依据", "备注"]
    per_item = print_scale([widths[h] for h in [*columns, *items, *tail]], landscape=True) * 11 >= DETAIL_POINTS
    if per_item:
        for h, k in items.items():
            columns[h] = blank_if_empty(t[goods_column(k)].astype(float))
            totals[h] = goods_total(d, k)
    elif d.goods:
        columns["物资"] = goods_texts(t, d.goods)
    columns.update({tail[0]: money_col(t["goods_fen"]), "合计（元）": money_col(t["total_fen"]), "核定依据": t["reason"],
                    "备注": [f"封顶扣减 {yuan(int(c))} 元" if c else None for c in t["capped_fen"]]})
    totals.update({tail[0]: goods_fen / 100, "合计（元）": (cash_fen + goods_fen) / 100})
    heads = list(columns)
    frame = pd.DataFrame(columns)
    shrink = {j: min(DETAIL_WRAPPED[h][1], widths[h]) for j, h in enumerate(heads) if h in DETAIL_WRAPPED}
    fitted = fit_widths([widths[h] for h in heads], shrink, landscape=True, points=DETAIL_POINTS,
                        texts={j: frame[heads[j]] for j in shrink})
    formats = [fmt.wrap if h in DETAIL_WRAPPED else fmt.amount if h in money else fmt.qty if h in items
               else fmt.text if h == "身份证号" else fmt.center for h in heads]
    lines = np.ones(n, dtype=np.int64)
    for h, w in zip(heads, fitted, strict=True):
        if h in DETAIL_WRAPPED:
            lines = np.maximum(lines, text_lines(frame[h], w))
    frame = pd.concat([frame, pd.DataFrame([{**dict.fromkeys(heads, ""), **totals}])], ignore_index=True)  # every cell ruled
    titled_sheet(book, sheet_name("慰问明细", used), frame, f"{title} 慰问明细表", fmt, formats, fitted,
                 heights=heights_of(lines, 2), autofilter=True)


class SignRows:
    """The sign sheets' rows for every village, prepared once for the whole table (sorted by village)."""

    NEEDS = SIGN_NEEDS  # and the goods columns
    COLUMNS = ("序号", "户主", "身份证号", "人口数", "享受标准", "现金（元）", "金额大写", "物资", "领取人签字", "领取日期")
    WIDTHS = (5, 8, 19, 7, 16, 10, 16, 20, 20, 12)

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
        self.goods = goods_texts(t, goods)
        self.head = t["head_name"].tolist()
        self.ids = mask_ids(pa.array(t["head_id"], type=pa.large_string())).to_pylist()
        self.size = int_text(t["size"])
        self.applied = t["applied_names"].tolist()
        w = dict(zip(self.COLUMNS, self.WIDTHS, strict=True))
        self.lines = np.maximum.reduce([text_lines(self.head, w["户主"]), text_lines(self.applied, w["享受标准"]),
                                        text_lines(self.capital, w["金额大写"]), text_lines(self.goods, w["物资"])])

    def rows(self, k: int) -> Rows:
        """Village ``k``'s rows, totals line and （以下空白） (as row dicts: for a few hundred rows the
        writer takes those faster than a frame)."""
        a, b = int(self.starts[k]), int(self.starts[k + 1])
        total = int(self.cash_fen[a:b].sum())
        columns = (map(str, range(1, b - a + 1)), self.head[a:b], self.ids[a:b], self.size[a:b], self.applied[a:b],
                   self.cash[a:b], self.capital[a:b], self.goods[a:b])
        records = [dict(zip(self.COLUMNS, (*row, "", ""), strict=True)) for row in zip(*columns, strict=True)]
        records.append(dict(zip(self.COLUMNS, ("合计", f"{b - a} 户", "", "", "", total / 100, capital(yuan(total)),
                                               "", "", ""), strict=True)))
        records.append({c: "（以下空白）" if c == "享受标准" else None for c in self.COLUMNS})  # every key, in order
        return Rows(list(self.COLUMNS), records)

    def write(self, book: rx.FastExcel, fmt: Formats, k: int, name: str, *, alone: bool = True) -> None:
        """Village ``k``'s sign sheet: A4 landscape at full size, the title and the village on every
        page, rows tall enough to sign, 制表人/审核人/发放人 lines in every page's footer.  ``alone``:
        the workbook's only sheet (its page count is then its own)."""
        frame = self.rows(k)
        a, b = int(self.starts[k]), int(self.starts[k + 1])
        formats = [fmt.center, fmt.wrap, fmt.text, fmt.center, fmt.wrap, fmt.money, fmt.wrap, fmt.wrap, fmt.text,
                   fmt.text]
        widths = list(self.WIDTHS)
        widths[5] = money_width(int(self.cash_fen[a:b].sum()), 10)
        first = 4  # title, two subtitle lines, header
        heights = heights_of(self.lines[a:b], first, least=30)
        heights[first + b - a] = 30
        titled_sheet(book, name, frame, f"{self.title} 发放签领表", fmt, formats, widths,
                     subtitles=(f"村(社区)：{self.villages[k]}\u3000\u3000\u3000\u3000发放单位（盖章）：{SEAL_SPACE}"
                                f"发放日期：{DATE_BLANK}",
                                "本人签字领取，不得代签；足额发放，不得拆分。"),
                     heights=heights, row_formats={first + b - a: fmt.total}, footer=SIGNATURES + page_numbers(alone),
                     margins=SIGN_MARGINS)


def _summary(book: rx.FastExcel, fmt: Formats, d: Decision, title: str, used: set[str]) -> None:
    """By village, by standard and the goods to buy, in one printable table."""
    rows: list[dict[str, object]] = []

    def add(kind: str, name: str, households: object = "", persons: object = "", cash: object = "",
            goods: object = "", total: object = "", qty: object = "", unit: str = "") -> None:
        rows.append({"分类": kind, "名称": name, "户数": households, "人数/人次": persons, "现金（元）": cash,
                     "物资折价\n（元）": goods, "合计（元）": total, "物资数量": qty, "单位": unit})

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
    frame = Rows(list(rows[0]), rows)
    formats = [fmt.text, fmt.wrap, fmt.center, fmt.center, fmt.money, fmt.money, fmt.money, fmt.qty, fmt.center]
    money = money_width(int(d.total * 100))
    qty = max([8.0, *(len(f"{goods_total(d, k):,g}") + 1.5 for k in d.goods)])
    widths = [10, 20, 7, 9, money, money, money, qty, 6]
    lines = text_lines([str(r["名称"]) for r in rows], 20)
    titled_sheet(book, sheet_name("汇总", used), frame, f"{title} 汇总表", fmt, formats, widths, landscape=False,
                 heights=heights_of(lines, 2), row_formats={2 + i: fmt.total for i in totals_at})


def _left_out(book: rx.FastExcel, fmt: Formats, d: Decision, used: set[str]) -> None:
    files = _short_paths([x.file for x in d.left_out])
    frame = pd.DataFrame(
        [{"类型": x.kind, "文件": files[x.file], "工作表": x.sheet, "行": str(x.row), "村(社区)": x.village,
          "姓名": x.name, "身份证号": x.id_masked, "原因": x.reason} for x in d.left_out],
        columns=["类型", "文件", "工作表", "行", "村(社区)", "姓名", "身份证号", "原因"],
    )
    formats = [fmt.wrap, fmt.wrap, fmt.wrap, fmt.center, fmt.wrap, fmt.wrap, fmt.text, fmt.wrap]
    widths = [11, 24, 10, 6, 10, 9, 19, 52]
    lines = np.ones(len(frame), dtype=np.int64)
    for j in (0, 1, 2, 4, 5, 7):
        lines = np.maximum(lines, text_lines(frame.iloc[:, j].astype(object), widths[j]))
    if len(frame):  # a last line without a row height (weiwen.sheets.printed)
        frame = pd.concat([frame, pd.DataFrame([{"类型": f"共 {len(frame)} 条"}])], ignore_index=True)
    titled_sheet(book, sheet_name("未纳入", used), frame, "未纳入核定的行和户", fmt, formats, widths, autofilter=True,
                 heights=heights_of(lines, 2))


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
