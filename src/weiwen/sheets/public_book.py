"""Write the public list (公示名单): one sheet per village in 公示名单.xlsx, or one workbook per
village in a folder when there are many villages.

A public list is posted in each village before the list is approved, so every village's list
stands alone: portrait A4, its title, its village and the publicity period at the top of every
page, names and ID numbers masked, no phone or bank columns, the totals, how to object
(to whom, the supervision phone) and the sign-off line for the posting unit's seal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import rustpy_xlsxwriter as rx

from weiwen.core.atomic import fit_name, write_atomic
from weiwen.core.ids import mask_ids
from weiwen.sheets.printed import (Formats, Rows, heights_of, int_text, mask_names, money_width, page_numbers,
                                   sheet_name, small_book, text_lines, text_units, titled_sheet, village_file_stem)
from weiwen.sheets.xlsx import normalize_xlsx

PUBLIC_NEEDS = ("village", "head_name", "head_id", "size", "applied_names", "total_fen", "goods_fen")
PUBLIC_BOOK = "公示名单.xlsx"  # up to SIGN_SHEETS_INLINE villages: a sheet each
PUBLIC_FOLDER = "公示名单"  # more: a workbook each
PUBLIC_SHARES = 24  # those workbooks go to the second process in this many shares (queue_public_files)
BLANK = "__________"  # a blank to fill in by hand
DATE_BLANK = "\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日"


@dataclass(frozen=True)
class Posting:
    """What a village's public list says besides its rows (plain text: it is sent to the second process)."""

    title: str  # 城关镇2027年春节走访慰问 慰问对象公示名单
    period: str  # 公示期：2027年1月20日至2027年1月22日（3天）
    objection: str  # 对公示对象有异议的，请在公示期内向…反映，监督电话：…。举报属实的，…


def posting(campaign_title: str, *, days: int = 3, start: date | None = None, office: str = "",
            phone: str = "") -> Posting:
    """The texts of the public list, from the plan's ``publicity`` (days, start, office,
    phone); what the plan leaves empty is printed as a blank to fill in by hand."""
    if start is None:
        period = f"公示期：{DATE_BLANK}至{DATE_BLANK}（{days}天）"
    else:
        end = start + timedelta(days=days - 1)
        period = f"公示期：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日（{days}天）"
    objection = (f"对公示对象有异议的，请在公示期内向{office.strip() or BLANK}反映，监督电话：{phone.strip() or BLANK}。"
                 "举报属实的，取消慰问资格，不予补缺。")
    return Posting(f"{campaign_title} 慰问对象公示名单", period, objection)


@functools.lru_cache(maxsize=256)  # the same note under every village's list
def wrap_text(text: str, units: int) -> tuple[str, ...]:
    """``text`` in lines of at most ``units`` (weiwen.sheets.printed.text_units), broken after a comma or
    full stop where possible: for notes printed below a table, where a cell cannot wrap them."""
    clauses, current = [], ""
    for ch in text:
        current += ch
        if ch in "，。；：、":
            clauses.append(current)
            current = ""
    if current:
        clauses.append(current)

    lines, line = [], ""
    for clause in clauses:
        while text_units(clause) > units:  # a clause longer than a line: cut it
            room = units - text_units(line)
            cut = 0
            while cut < len(clause) and text_units(clause[: cut + 1]) <= room:
                cut += 1
            if cut == 0 and line:  # the line is full: start the next
                lines.append(line)
                line = ""
                continue
            cut = max(cut, 1)
            lines.append(line + clause[:cut])
            line, clause = "", clause[cut:]
        if text_units(line + clause) > units:
            lines.append(line)
            line = clause
        else:
            line += clause
    if line:
        lines.append(line)
    return tuple(x for x in lines if x)


class PublicRows:
    """Every village's public list, prepared once for the whole table (sorted by village)."""

    COLUMNS = ("序号", "户主", "身份证号", "人口数", "享受标准", "金额（元）", "其中物资折价\n（元）")
    WRAP = {"户主": 9, "享受标准": 25}  # the columns whose text may wrap, and their widths

    def __init__(self, t: pd.DataFrame, post: Posting) -> None:
        n = len(t)
        self.post = post
        village = t["village"].to_numpy(dtype=object)
        self.starts = np.r_[0, np.flatnonzero(village[1:] != village[:-1]) + 1, n] if n else np.zeros(1, np.int64)
        self.villages = [str(village[i]) for i in self.starts[:-1]]
        group = np.repeat(self.starts[:-1], np.diff(self.starts)) if n else np.zeros(0, np.int64)
        names = mask_names(t["head_name"])
        self.total_fen = t["total_fen"].to_numpy(dtype=np.int64)
        self.goods_fen = t["goods_fen"].to_numpy(dtype=np.int64)
        # The columns as lists: a village's rows go to the writer as row dicts, which it takes faster
        # than a frame for a few hundred rows.
        self.columns = ((np.arange(n) - group + 1).astype(str).tolist(), names.to_pylist(),
                        mask_ids(pa.array(t["head_id"], type=pa.large_string())).to_pylist(), int_text(t["size"]),
                        t["applied_names"].tolist(), (self.total_fen / 100).tolist(), (self.goods_fen / 100).tolist())
        self.lines = np.maximum(text_lines(names, self.WRAP["户主"]), text_lines(t["applied_names"], self.WRAP["享受标准"]))

    def write(self, book: rx.FastExcel, fmt: Formats, k: int, name: str, *, alone: bool = True) -> None:
        """Village ``k``'s list as the sheet ``name`` (``alone``: the workbook's only sheet)."""
        a, b = int(self.starts[k]), int(self.starts[k + 1])
        total, goods = int(self.total_fen[a:b].sum()), int(self.goods_fen[a:b].sum())
        widths = [6, self.WRAP["户主"], 19, 7, self.WRAP["享受标准"], money_width(total), 13]
        cols = self.COLUMNS

        def row(**cells: object) -> dict[str, object]:  # every key, in order: the writer reads them by place
            return {c: cells.get(f"c{j}") for j, c in enumerate(cols)}

        tail = [row(c0="合计", c1=f"{b - a} 户", c5=total / 100, c6=goods / 100), row()]
        tail += [row(c0=line) for line in wrap_text(self.post.objection, int(sum(widths) * 0.95) - 2)]
        tail += [row(), row(c3="公示单位（盖章）：" + "\u3000" * 8 + "年\u3000\u3000月\u3000\u3000日")]
        records = [dict(zip(cols, r, strict=True)) for r in zip(*(c[a:b] for c in self.columns), strict=True)]
        frame = Rows(list(cols), records + tail)
        first = 3  # title, village and period, header
        heights = heights_of(self.lines[a:b], first, least=20)
        totals = first + b - a
        heights.update({totals: 22, totals + 1: 10, totals + len(tail) - 2: 30})
        formats = {first + i: fmt.cell for i in range(b - a)}
        formats[totals] = fmt.cell_total
        titled_sheet(book, name, frame, self.post.title, fmt, None, widths, landscape=False,
                     subtitles=(f"村(社区)：{self.villages[k]}\u3000\u3000\u3000\u3000{self.post.period}",),
                     heights=heights, row_formats=formats, footer="&C" + page_numbers(alone))


def write_public_book(path: Path, rows: PublicRows) -> None:
    """公示名单.xlsx: a sheet for each village, named after it."""
    def write(tmp: Path) -> None:
        fmt = Formats()
        book = rx.FastExcel(str(tmp))
        used: set[str] = set()
        if not rows.villages:
            empty = pd.DataFrame(columns=list(PublicRows.COLUMNS))
            titled_sheet(book, "公示名单", empty, rows.post.title, fmt, None, [6, 9, 19, 7, 25, 11, 13],
                         landscape=False, subtitles=(rows.post.period,))
        for k, village in enumerate(rows.villages):
            rows.write(book, fmt, k, sheet_name(village, used), alone=False)
        book.save()
        normalize_xlsx(tmp)

    write_atomic(path, write)


def write_public_files(folder: Path, rows: PublicRows, *, first: int = 0, count: int | None = None) -> list[Path]:
    """A workbook for each village of ``rows`` into ``folder``, numbered from ``first`` of ``count``
    villages in all: 0001-东关村.xlsx …"""
    fmt = Formats()
    out = []
    for k, village in enumerate(rows.villages):
        stem = village_file_stem(first + k, count or len(rows.villages), village)
        target = folder / fit_name(stem, ".xlsx")
        small_book(target, lambda book, k=k: rows.write(book, fmt, k, "公示名单"))
        out.append(target)
    return out


def public_share(part: pa.Table, post: Posting, folder: Path, first: int, count: int) -> list[Path]:
    """One share of the public-list workbooks (in the second process)."""
    return write_public_files(folder, PublicRows(part.to_pandas(), post), first=first, count=count)


def queue_public_files(pool: Executor, table: pd.DataFrame, post: Posting, folder: Path) -> Callable[[], list[Path]]:
    """Queue the public-list workbooks (one per village of ``table``, sorted by village) to ``pool``,
    the second process, in PUBLIC_SHARES shares after the work already given to it.  The function
    returned, called when this process is done with its own work, writes here every share the
    second process has not started, and gives all the files in the villages' order: whichever
    process is free writes them."""
    village = table["village"].to_numpy(dtype=object)
    n = len(village)
    starts = np.r_[0, np.flatnonzero(village[1:] != village[:-1]) + 1, n] if n else np.zeros(1, np.int64)
    count = len(starts) - 1
    bounds = np.linspace(0, count, min(PUBLIC_SHARES, count) + 1).astype(np.int64).tolist()
    needs = pa.Table.from_pandas(table[list(PUBLIC_NEEDS)], preserve_index=False)
    shares: list[tuple[int, int, int, Future[list[Path]]]] = []
    for k0, k1 in zip(bounds[:-1], bounds[1:], strict=True):
        a, b = int(starts[k0]), int(starts[k1])
        part = needs.take(pa.array(np.arange(a, b)))  # a copy: a slice would be sent with the whole table
        shares.append((k0, a, b, pool.submit(public_share, part, post, folder, k0, count)))

    def finish() -> list[Path]:
        # From the back, one share at a time, while the second process (still busy, or taking
        # shares from the front) has not started it: the two meet in the middle.
        here: dict[int, list[Path]] = {}
        for i in reversed(range(len(shares))):
            k0, a, b, future = shares[i]
            if not future.cancel():
                break
            here[i] = write_public_files(folder, PublicRows(table.iloc[a:b], post), first=k0, count=count)
        out: list[Path] = []
        for i, (*_, future) in enumerate(shares):
            out += here[i] if i in here else future.result()
        return out

    return finish
