"""Reading a plan workbook (慰问方案.xlsx) into the plain data of a rules file.

The workbook's sheets and columns are declared in :mod:`weiwen.rules.layout`.  Reading builds
the same nested data a YAML rules file holds, and records the cell of every value
(:class:`~weiwen.rules.places.CellPlaces`), so pydantic's complaints and the rules check's
findings name 工作表、行、列 and cell.  Every mistake in the workbook is collected and reported
together; the plan is refused whole if there is any.  Nothing in a cell is evaluated: conditions
are parsed by :mod:`weiwen.rules.condtext`.

Refused loudly, because each could change an amount silently: a column or sheet that is missing
or unknown (a misspelt 物资 sheet would drop every goods item), a hidden sheet or row, a formula
with no saved value, a number with text (600元), a package part whose package does not exist,
goods or tiers of a standard that does not exist, a label of 活动 written twice.

Length: one reader per sheet, each short; they share the cell conversions and the place
bookkeeping, which split across modules would have to be passed around as a context object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rapidfuzz import process as fuzz_process
from xlsxwriter.utility import xl_rowcol_to_cell

from weiwen.core.text import header_key
from weiwen.read.sniff import Format
from weiwen.read.workbook import RawSheet, read_roster_file
from weiwen.rules import condtext
from weiwen.rules import layout as L
from weiwen.rules.places import CellPlaces, Place

PLAN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


class PlanCellErrors(Exception):
    """The workbook's mistakes, each a Chinese sentence naming its cell."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass
class Cell:
    value: object
    place: Place

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


Row = dict[str, Cell]


def read_plan_workbook(path: Path) -> CellPlaces:
    """The workbook at ``path`` as rules data (``.data``) with the place of every value."""
    return _Reader(path).read()


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.errors: list[str] = []
        self.out = CellPlaces()

    # --- the whole workbook ----------------------------------------------------------------

    def read(self) -> CellPlaces:
        res = read_roster_file(self.path)
        if res.format is Format.CSV:
            raise PlanCellErrors([f"{self.path.name} 是纯文本文件，不是慰问方案工作簿；请用 weiwen rules template 生成方案表格。"])
        fatal = [p for p in res.problems if p.severity.value == "error" and p.sheet is None]
        if fatal or not res.readable:
            raise PlanCellErrors([p.message + (f"{p.hint}" if p.hint else "") for p in fatal] or ["文件无法读取。"])
        known = {header_key(t.sheet): t.sheet for t in (L.CAMPAIGN, *L.TABLES)}
        ignored = {header_key(L.HELP_SHEET), header_key(L.LIST_SHEET)}
        for p in res.problems:
            if p.code == "sheet-hidden" and p.sheet and header_key(p.sheet) in known:
                self.errors.append(f"工作表“{p.sheet}”被隐藏了：隐藏的表也是方案的一部分，请取消隐藏（右键点工作表标签→取消隐藏）。")
            elif p.code == "file-corrupt" and p.sheet:
                self.errors.append(p.message)
        sheets: dict[str, RawSheet] = {}
        for sheet in res.sheets:
            key = header_key(sheet.name)
            if key in known:
                if known[key] in sheets:
                    self.errors.append(f"工作表“{sheet.name}”和“{sheets[known[key]].name}”重复，请只保留一个。")
                sheets[known[key]] = sheet
            elif key not in ignored and any(c.strip() for row in sheet.rows for c in row if isinstance(c, str)):
                near = fuzz_process.extractOne(sheet.name, list(known.values()), score_cutoff=50)
                if near:
                    self.errors.append(f"不认识的工作表“{sheet.name}”，是不是“{near[0]}”？请把表名改成“{near[0]}”。")
        for required in (L.CAMPAIGN.sheet, L.STANDARDS.sheet):
            if required not in sheets:
                self.errors.append(f"缺少工作表“{required}”。请用 weiwen rules template 生成的方案表格填写。")
        if self.errors:
            raise PlanCellErrors(self.errors)
        for sheet in sheets.values():
            self._marks(sheet)
        data: dict[str, Any] = {}
        self.data = data
        self._campaign(sheets[L.CAMPAIGN.sheet])
        rows = {t.sheet: self._table(sheets.get(t.sheet), t) for t in L.TABLES}
        if self.errors and not rows[L.STANDARDS.sheet]:  # every other sheet names standards: no echo of this
            raise PlanCellErrors(self.errors)
        self._standards(rows[L.STANDARDS.sheet])
        self._tiers(rows[L.TIERS.sheet])
        self._goods(rows[L.GOODS.sheet])
        self._stated(rows[L.STATED.sheet])
        self._quotas(rows[L.QUOTAS.sheet])
        self._exclusions(rows[L.EXCLUSIONS.sheet])
        self._categories(rows[L.CATEGORIES.sheet])
        self._limits(rows[L.LIMITS.sheet])
        self._split(rows[L.SPLIT.sheet])
        if self.errors:
            raise PlanCellErrors(self.errors)
        self.out.data = data
        return self.out

    def _marks(self, sheet: RawSheet) -> None:
        for r in sheet.marks.hidden_rows:
            if r < len(sheet.rows) and any(not _blank(v) for v in sheet.rows[r]):
                self.errors.append(f"工作表“{sheet.name}”第 {r + 1} 行被隐藏了：隐藏的行也会生效。"
                                   "不要的行请删除，要的请取消隐藏。")
        for r, c in sheet.marks.no_value:
            self.errors.append(f"工作表“{sheet.name}”{xl_rowcol_to_cell(r, c)} 是公式，但文件里没有保存计算结果；"
                               "请用 Excel/WPS 打开后保存一次，或直接填写数值。")
        for r, c, err in sheet.marks.errors:
            self.errors.append(f"工作表“{sheet.name}”{xl_rowcol_to_cell(r, c)} 是错误值 {err}，请改正。")

    def error(self, cell: Cell | Place, message: str) -> None:
        place = cell.place if isinstance(cell, Cell) else cell
        self.errors.append(f"{place.zh()}：{message}")

    def put(self, loc: tuple[Any, ...], value: Any, cell: Cell | Place) -> None:
        node: Any = self.data
        for k in loc[:-1]:
            node = node[k] if isinstance(node, list) else node.setdefault(k, {})
        node[loc[-1]] = value
        self.out.put(loc, cell.place if isinstance(cell, Cell) else cell)

    # --- 活动 ----------------------------------------------------------------------------

    def _campaign(self, sheet: RawSheet) -> None:
        items = {header_key(i.label): i for i in L.CAMPAIGN_ITEMS}
        found = self._header(sheet, L.CAMPAIGN)
        if found is None:
            return
        head, cols = found
        seen: dict[str, int] = {}
        label_col, value_col = cols["项目"], cols["内容"]
        for r in range(head + 1, len(sheet.rows)):
            row = sheet.rows[r]
            label = _text(row[label_col]) if label_col < len(row) else None
            value = row[value_col] if value_col < len(row) else None
            place = Place(sheet.name, r + 1, "内容", xl_rowcol_to_cell(r, value_col))
            if not label:
                if not _blank(value):
                    self.error(place, "这一行没有写项目名称（A 列），内容无法使用。")
                continue
            item = items.get(header_key(label))
            if item is None:
                near = fuzz_process.extractOne(label, [i.label for i in L.CAMPAIGN_ITEMS], score_cutoff=50)
                hint = f"是不是“{near[0]}”？" if near else f"可用的项目：{'、'.join(i.label for i in L.CAMPAIGN_ITEMS)}。"
                self.error(Place(sheet.name, r + 1, "项目", xl_rowcol_to_cell(r, label_col)), f"不认识的项目“{label}”，{hint}")
                continue
            if item.label in seen:
                self.error(place, f"项目“{item.label}”写了两次（第 {seen[item.label]} 行已有）。")
                continue
            seen[item.label] = r + 1
            cell = Cell(value, place)
            if cell.blank:
                if item.required:
                    self.error(cell, f"“{item.label}”必须填写。{item.help}")
                continue
            converted = self._convert(cell, item)
            if converted is not None:
                self.put(item.path, converted, cell)
        for item in L.CAMPAIGN_ITEMS:
            if item.required and item.label not in seen:
                self.error(Place(sheet.name), f"缺少项目“{item.label}”（必须填写）。{item.help}")
        split = self.data.get("budget", {}).get("split")
        if split is not None and "by" not in split:
            self.error(self.out.places[("budget", "split", next(iter(split)))],
                       "写了分片资金或分片取整，但没有写“分片方式”。")

    def _convert(self, cell: Cell, item: L.Item) -> Any:
        kind = item.kind
        if kind == "text":
            return self.text(cell)
        if kind == "date":
            return self.date(cell)
        if kind == "money":
            return self.number(cell, "金额")
        if kind == "int":
            return self.integer(cell)
        if kind == "bool":
            return self.yes_no(cell)
        if kind == "choice":
            return self.choice(cell, dict(item.choices))
        if kind == "list":
            return condtext.parse_values(self.text(cell) or "")
        choices = dict(item.choices)
        out = []
        for word in condtext.parse_values(self.text(cell) or ""):
            if word not in choices:
                self.error(cell, f"“{word}”不是可选的步骤，可选：{'、'.join(choices)}。")
                return None
            out.append(choices[word])
        return out

    # --- the tables --------------------------------------------------------------------------

    def _header(self, sheet: RawSheet, table: L.Table) -> tuple[int, dict[str, int]] | None:
        wanted = {header_key(h): h for h in table.headers()}
        for r, row in enumerate(sheet.rows[:6]):
            keys = [_header(v, wanted) if isinstance(v, str) else "" for v in row]
            if sum(k in wanted for k in keys) >= min(2, len(wanted)):
                cols: dict[str, int] = {}
                for c, (k, v) in enumerate(zip(keys, row)):
                    if k in wanted:
                        if wanted[k] in cols:
                            self.error(Place(sheet.name, r + 1, wanted[k], xl_rowcol_to_cell(r, c)),
                                       f"“{wanted[k]}”列出现了两次。")
                        cols[wanted[k]] = c
                    elif k and k not in (header_key(h) for h in L.IGNORED_HEADERS):
                        near = fuzz_process.extractOne(str(v), table.headers(), score_cutoff=50)
                        hint = f"是不是“{near[0]}”？" if near else f"这张表的列：{'、'.join(table.headers())}。"
                        self.error(Place(sheet.name, r + 1, str(v).strip(), xl_rowcol_to_cell(r, c)),
                                   f"不认识的列“{str(v).strip()}”，{hint}")
                missing = [h for h in table.headers() if h not in cols and h not in L.IGNORED_HEADERS]
                if missing:
                    self.error(Place(sheet.name, r + 1), f"缺少“{'”“'.join(missing)}”列；不要删除方案表格的列。")
                    return None
                return r, cols
        self.error(Place(sheet.name), f"找不到表头（应有 {'、'.join(table.headers())} 等列）。")
        return None

    def _table(self, sheet: RawSheet | None, table: L.Table) -> list[Row]:
        if sheet is None:
            return []
        found = self._header(sheet, table)
        if found is None:
            return []
        head, cols = found
        rows: list[Row] = []
        for r in range(head + 1, len(sheet.rows)):
            raw = sheet.rows[r]
            row = {h: Cell(raw[c] if c < len(raw) else None, Place(sheet.name, r + 1, h, xl_rowcol_to_cell(r, c)))
                   for h, c in cols.items() if h not in L.IGNORED_HEADERS}
            if all(cell.blank for cell in row.values()):
                continue
            for col in table.columns:
                if col.required and col.header in row and row[col.header].blank:
                    self.error(row[col.header], f"“{col.header}”必须填写。{col.help}")
            rows.append(row)
        return rows

    # --- 标准 ----------------------------------------------------------------------------

    def _standards(self, rows: list[Row]) -> None:
        self.codes: dict[str, int] = {}  # code → index in standards
        self.names: dict[str, int] = {}
        self.parts: dict[int, dict[str, int]] = {}  # standard index → part name → index
        standards: list[dict[str, Any]] = []
        self.data["standards"] = standards
        self.out.put(("standards",), Place(L.STANDARDS.sheet))
        pending: list[Row] = []
        for row in rows:
            if not row["所属组合"].blank:
                pending.append(row)
                continue
            k = len(standards)
            loc: tuple[Any, ...] = ("standards", k)
            self.out.put(loc, row["名称"].place)
            s: dict[str, Any] = {}
            standards.append(s)
            code = self.text(row["代码"])
            if code is None:
                self.error(row["代码"], "“代码”必须填写（组合包的部分除外：部分要填“所属组合”）。")
            else:
                self.put((*loc, "code"), code, row["代码"])
                if code in self.codes:
                    self.error(row["代码"], f"标准代码“{code}”重复。")
                self.codes.setdefault(code, k)
            name = self.text(row["名称"])
            if name is not None:
                self.put((*loc, "name"), name, row["名称"])
                self.names.setdefault(name, k)
            when = self._when(row, loc, required=True)
            if when is not None:
                s["when"] = when
            mode = self.text(row["计发方式"])
            if mode == L.PACKAGE:
                for col in ("现金", "物资只发一次"):
                    if not row[col].blank:
                        self.error(row[col], f"组合包这一行不填“{col}”：现金和物资写在它的各个部分里。")
                self.put((*loc, "parts"), [], row["计发方式"])
                self.parts[k] = {}
            elif mode is not None:
                self._payable(row, loc)
            if not row["是否另行发放"].blank:
                stacking = self.yes_no(row["是否另行发放"])
                if stacking is not None:
                    self.put((*loc, "stacking"), stacking, row["是否另行发放"])
            if mode == L.PACKAGE and not row["备注"].blank:
                self.put((*loc, "note"), self.text(row["备注"]), row["备注"])
        for row in pending:
            self._part(row, standards)
        for k, names in self.parts.items():
            if not names:
                self.error(self.out.places[("standards", k, "parts")],
                           "这个组合包没有部分：在下面加几行，“所属组合”写这个组合包的代码。")

    def _part(self, row: Row, standards: list[dict[str, Any]]) -> None:
        ref = self.text(row["所属组合"]) or ""
        k = self.codes.get(ref, self.names.get(ref))
        if k is None or k not in self.parts:
            packages = [standards[i].get("code", "") for i in self.parts]
            if k is not None:
                hint = f"“{ref}”不是组合包（它的计发方式不是“组合包”）。"
            else:
                hint = f"找不到代码为“{ref}”的组合包。"
            self.error(row["所属组合"], hint + (f"已有的组合包：{'、'.join(packages)}。" if packages else
                                               "要先写一行计发方式为“组合包”的标准，部分的“所属组合”写它的代码。"))
            return
        for col in ("代码", "是否另行发放"):
            if not row[col].blank:
                why = "部分由“所属组合”和名称认定" if col == "代码" else "是否另行发放写在组合包那一行"
                self.error(row[col], f"组合包的部分不填“{col}”（{why}）。")
        parts = standards[k]["parts"]
        j = len(parts)
        loc = ("standards", k, "parts", j)
        self.out.put(loc, row["名称"].place)
        parts.append({})
        name = self.text(row["名称"])
        if name is not None:
            self.put((*loc, "name"), name, row["名称"])
            if name in self.parts[k]:
                self.error(row["名称"], f"组合包的部分名称“{name}”重复。")
            self.parts[k].setdefault(name, j)
        when = self._when(row, loc, required=False)
        if when is not None:
            self.put((*loc, "when"), when, self._when_cell(row))
        if self.text(row["计发方式"]) == L.PACKAGE:
            self.error(row["计发方式"], "组合包的部分不能再是组合包：计发方式写 按户、按人 或 按户人口。")
        else:
            self._payable(row, loc)

    def _payable(self, row: Row, loc: tuple[Any, ...]) -> None:
        per = self.choice(row["计发方式"], L.PER)
        if per is not None:
            self.put((*loc, "per"), per, row["计发方式"])
        cash = self.number(row["现金"], "现金")
        if cash is not None:
            self.put((*loc, "cash"), cash, row["现金"])
        if not row["物资只发一次"].blank:
            once = self.yes_no(row["物资只发一次"])
            if once == "true" and per not in (None, "person"):
                self.error(row["物资只发一次"], "“物资只发一次”只用于计发方式为“按人”的标准（一户几人享受时物资只发一份）。")
            elif once is not None:
                self.put((*loc, "goods_once"), once, row["物资只发一次"])
        note = self.text(row["备注"])
        if note is not None:
            self.put((*loc, "note"), note, row["备注"])

    def _when_cell(self, row: Row) -> Cell:
        return row["对象类别"] if not row["对象类别"].blank else row["其他条件"]

    def _when(self, row: Row, loc: tuple[Any, ...], *, required: bool) -> dict[str, Any] | None:
        categories = condtext.parse_values(self.text(row["对象类别"]) or "")
        other: dict[str, Any] | None = None
        if not row["其他条件"].blank:
            try:
                other = condtext.parse(self.text(row["其他条件"]) or "")
            except condtext.ConditionSyntaxError as exc:
                self.error(row["其他条件"], f"条件写法有误：{exc}。写法见“填写说明”。")
                return None
        if not categories and other is None:
            if required:
                self.error(row["对象类别"], "“对象类别”和“其他条件”至少要填一项：写明谁享受这项标准。")
            return None
        self.out.put((*loc, "when"), self._when_cell(row).place)
        self.out.put_texts((*loc, "when"), [(row[c].place, self.text(row[c]) or "") for c in ("对象类别", "其他条件")
                                             if not row[c].blank])
        if categories and other is None:
            return {"category": categories}
        if not categories:
            return other
        assert other is not None
        rest = other["all"] if set(other) == {"all"} else [other]
        return {"all": [{"category": categories}, *rest]}

    # --- 分档, 物资, 方案合计 -------------------------------------------------------------------

    def _target(self, row: Row) -> tuple[Any, ...] | None:
        """The standard (or package part) a row of 物资, 分档 or 方案合计 belongs to."""
        ref = self.text(row["标准"])
        if ref is None:
            return None
        k = self.codes.get(ref, self.names.get(ref))
        if k is None:
            near = fuzz_process.extractOne(ref, list(self.codes), score_cutoff=50)
            hint = f"是不是“{near[0]}”？" if near else f"已有的标准代码：{'、'.join(self.codes) or '（无）'}。"
            self.error(row["标准"], f"“标准”表中没有代码为“{ref}”的标准，{hint}")
            return None
        if "部分" not in row:
            return ("standards", k)
        part = self.text(row["部分"])
        if k in self.parts:
            if part is None:
                self.error(row["部分"], f"“{ref}”是组合包：要写明是它的哪个部分（{_names(self.parts[k])}）。")
                return None
            if part not in self.parts[k]:
                self.error(row["部分"], f"组合包“{ref}”没有名为“{part}”的部分；它的部分：{_names(self.parts[k])}。")
                return None
            return ("standards", k, "parts", self.parts[k][part])
        if part is not None:
            self.error(row["部分"], f"“{ref}”不是组合包，“部分”不用填。")
            return None
        return ("standards", k)

    def _targeted(self, rows: list[Row]) -> Iterator[tuple[Row, tuple[Any, ...], dict[str, Any]]]:
        """The rows whose standard (or package part) exists, with its place and its data: a package
        itself is never a target (``_target`` asks for the part)."""
        for row in rows:
            target = self._target(row)
            if target is not None:
                yield row, target, self._node(target)

    def _node(self, loc: tuple[Any, ...]) -> dict[str, Any]:
        node: Any = self.data
        for k in loc:
            node = node[k]
        return node

    def _tiers(self, rows: list[Row]) -> None:
        self.tier_numbers: dict[tuple[Any, ...], dict[int, int]] = {}
        self.tier_goods: dict[tuple[Any, ...], str | None] = {}
        self.listed_at: dict[tuple[Any, ...], Place] = {}
        for row, target, node in self._targeted(rows):
            by = self.choice(row["分档依据"], L.TIER_BY)
            tiers = node.get("tiers")
            if tiers is None:
                tiers = {"steps": []}
                self.put((*target, "tiers"), tiers, row["标准"])
                if by is not None:
                    self.put((*target, "tiers", "by"), by, row["分档依据"])
            elif by is not None and tiers.get("by") not in (None, by):
                self.error(row["分档依据"], "同一标准的各档“分档依据”要相同。")
            k = len(tiers["steps"])
            step: dict[str, Any] = {}
            tiers["steps"].append(step)
            loc = (*target, "tiers", "steps", k)
            self.out.put(loc, row["下限"].place)
            self.out.put((*loc, "goods"), row["本档物资"].place)
            bounds = {}
            for col, key in (("下限", "min"), ("上限", "max")):
                v = self.integer(row[col])
                if v is not None:
                    self.put((*loc, key), v, row[col])
                    bounds[key] = v
            if bounds.get("min", 0) > bounds.get("max", bounds.get("min", 0)):
                self.error(row["下限"], f"这一档的下限（{bounds['min']}）大于上限（{bounds['max']}）。")
            cash = self.number(row["现金"], "现金")
            if cash is not None:
                self.put((*loc, "cash"), cash, row["现金"])
            number = self.integer(row["档次"])
            if number is not None:
                numbers = self.tier_numbers.setdefault(target, {})
                if number in numbers:
                    self.error(row["档次"], f"档次号 {number} 在这项标准中重复。")
                numbers[number] = k
            mark = self.text(row["本档物资"])
            if mark not in (None, L.TIER_GOODS_NONE, L.TIER_GOODS_LISTED):
                self.error(row["本档物资"], f"“本档物资”只能不填、填“{L.TIER_GOODS_NONE}”或“{L.TIER_GOODS_LISTED}”。")
            if mark == L.TIER_GOODS_NONE:
                self.put((*loc, "goods"), [], row["本档物资"])
            elif mark == L.TIER_GOODS_LISTED:
                if number is None:
                    self.error(row["档次"], "“本档物资”写了见物资表，要填档次号，物资表按档次号对应。")
                self.put((*loc, "goods"), [], row["本档物资"])
                self.tier_goods[loc] = "listed"
                self.listed_at[loc] = row["本档物资"].place

    def _goods(self, rows: list[Row]) -> None:
        for row, target, node in self._targeted(rows):
            number = self.integer(row["档次"])
            if number is not None:
                k = self.tier_numbers.get(target, {}).get(number)
                if k is None:
                    self.error(row["档次"], f"“分档”表中这项标准没有档次号 {number}。")
                    continue
                holder = node["tiers"]["steps"][k]
                loc: tuple[Any, ...] = (*target, "tiers", "steps", k, "goods")
                if holder.get("goods") == [] and self.tier_goods.get(loc[:-1]) != "listed":
                    self.error(row["档次"], f"“分档”表中第 {number} 档的本档物资写了“{L.TIER_GOODS_NONE}”，这里却列了物资。")
                    continue
                self.tier_goods[loc[:-1]] = "filled"
            else:
                holder = node
                loc = (*target, "goods")
            items = holder.setdefault("goods", [])
            self.out.put(loc, row["物品"].place)
            g = len(items)
            item: dict[str, Any] = {}
            items.append(item)
            at = (*loc, g)
            self.out.put(at, row["物品"].place)
            name = self.text(row["物品"])
            if name is not None:
                self.put((*at, "item"), name, row["物品"])
            unit = self.text(row["单位"])
            if unit is not None:
                self.put((*at, "unit"), unit, row["单位"])
            quantity = self.number(row["数量"], "数量")
            if quantity is not None:
                self.put((*at, "quantity"), quantity, row["数量"])
            value = self.number(row["单价"], "单价")
            if value is not None:
                self.put((*at, "unit_value"), value, row["单价"])
        for loc, state in self.tier_goods.items():
            if state == "listed":
                self.error(self.listed_at[loc], f"这一档的本档物资写了“{L.TIER_GOODS_LISTED}”，但物资表没有列出这一档的物资。")

    def _stated(self, rows: list[Row]) -> None:
        for row in rows:
            if row["标准"].blank:
                continue
            ref = self.text(row["标准"]) or ""
            k = self.codes.get(ref, self.names.get(ref))
            if k is None:
                self.error(row["标准"], f"“标准”表中没有代码为“{ref}”的标准。")
                continue
            loc = ("standards", k, "stated")
            if "stated" in self.data["standards"][k]:
                self.error(row["标准"], f"标准“{ref}”的方案合计写了两行。")
                continue
            self.put(loc, {}, row["标准"])
            count = self.integer(row["方案人数"])
            if count is not None:
                self.put((*loc, "count"), count, row["方案人数"])
            total = self.number(row["方案小计"], "金额")
            if total is not None:
                self.put((*loc, "total"), total, row["方案小计"])

    # --- 名额, 排除, 类别, 分片 -------------------------------------------------------------

    def _quotas(self, rows: list[Row]) -> None:
        refill = self.data.get("quotas", {}).get("refill")
        if not rows:
            if refill == "true":
                self.error(self.out.places[("quotas", "refill")], "写了名额空缺递补“是”，但“名额”表是空的。")
            self.data.pop("quotas", None)
            return
        slots: dict[str, Any] = {}
        for row in rows:
            village = self.text(row["村（社区）"])
            n = self.integer(row["名额"])
            if village is None or n is None:
                continue
            if village in slots:
                self.error(row["村（社区）"], f"“{village}”的名额写了两行。")
                continue
            self.put(("quotas", "slots", village), n, row["村（社区）"])  # a wrong 名额 number is said by integer()
            slots[village] = n
        self.out.put(("quotas",), Place(L.QUOTAS.sheet))

    def _limits(self, rows: list[Row]) -> None:
        limits: list[dict[str, Any]] = []
        for row in rows:
            events = self.text(row["慰问事由"])
            n = self.integer(row["每人每年最多次数"])
            if events is None or n is None:
                continue
            self.out.put(("limits", len(limits), "event"), row["慰问事由"].place)
            self.out.put(("limits", len(limits), "per_year"), row["每人每年最多次数"].place)
            limits.append({"event": condtext.parse_values(events), "per_year": n})
        if limits:
            self.data["limits"] = limits
            self.out.put(("limits",), Place(L.LIMITS.sheet))

    def _exclusions(self, rows: list[Row]) -> None:
        ids: list[str] = []
        columns: dict[str, str] = {}
        for row in rows:
            cell = row["身份证号"]
            if not cell.blank:
                if isinstance(cell.value, float | int) and not isinstance(cell.value, bool):
                    self.error(cell, "身份证号被 Excel 存成了数字，末几位可能已经丢失；请把这一列设为“文本”格式后重新输入。")
                else:
                    self.out.put(("exclusions", "ids", len(ids)), cell.place)
                    ids.append(str(self.text(cell)))
            col, value = self.text(row["花名册列"]), self.text(row["列值"])
            if (col is None) != (value is None):
                missing = row["列值"] if value is None else row["花名册列"]
                self.error(missing, "“花名册列”和“列值”要一起填写：花名册中这一列等于这个值的户不纳入。")
            elif col is not None and value is not None:
                if col in columns:
                    self.error(row["花名册列"], f"花名册列“{col}”写了两次；一列只能写一个值。")
                    continue
                columns[col] = value
                self.out.put(("exclusions", "column", col), row["列值"].place)
        if ids:
            self.data.setdefault("exclusions", {})["ids"] = ids
        if columns:
            self.data.setdefault("exclusions", {})["column"] = columns
        if rows:
            self.out.put(("exclusions",), rows[0]["身份证号"].place)

    def _categories(self, rows: list[Row]) -> None:
        for row in rows:
            name = self.text(row["类别"])
            if name is None:
                continue
            if name in self.data.get("categories", {}):
                self.error(row["类别"], f"类别“{name}”写了两行。")
                continue
            loc = ("categories", name)
            self.put(loc, {}, row["类别"])
            parent = self.text(row["上级类别"])
            if parent is not None:
                self.put((*loc, "parent"), parent, row["上级类别"])
            aliases = condtext.parse_values(self.text(row["别名"]) or "")
            if aliases:
                self.put((*loc, "aliases"), aliases, row["别名"])

    def _split(self, rows: list[Row]) -> None:
        split = self.data.get("budget", {}).get("split")
        if rows and split is None:
            self.error(rows[0]["片区"], "“分片”表有内容，但“活动”表没有写“分片方式”。")
            return
        for row in rows:
            name, weight = self.text(row["片区"]), self.number(row["比例"], "比例")
            if name is None or weight is None:
                continue
            if name in split.setdefault("parts", {}):
                self.error(row["片区"], f"片区“{name}”写了两行。")
                continue
            self.put(("budget", "split", "parts", name), weight, row["比例"])

    # --- cells ---------------------------------------------------------------------------------

    def text(self, cell: Cell) -> str | None:
        v = cell.value
        if cell.blank:
            return None
        if isinstance(v, bool):
            return L.YES if v else L.NO
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else repr(v)
        if isinstance(v, datetime):
            return v.date().isoformat()
        if isinstance(v, date):
            return v.isoformat()
        return str(v).replace("\u3000", " ").strip()

    def number(self, cell: Cell, what: str) -> str | None:
        v = cell.value
        if cell.blank:
            return None
        if isinstance(v, bool) or isinstance(v, date):
            self.error(cell, f"{what}要写数字。")
            return None
        if isinstance(v, int | float):
            return repr(float(v)) if isinstance(v, float) and not v.is_integer() else str(int(v))
        text = str(v).strip().replace("，", ",")
        plain = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text) else text
        try:
            Decimal(plain)
        except InvalidOperation:
            self.error(cell, f"“{text}”不是数字：{what}只写数字（单位：元、公斤等写在别的列或不写）。")
            return None
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", plain):
            self.error(cell, f"“{text}”不是正常的数字：{what}写成 600 或 4.8 这样。")
            return None
        return plain

    def integer(self, cell: Cell) -> int | None:
        v = cell.value
        if cell.blank:
            return None
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        text = str(v).strip()
        if re.fullmatch(r"[0-9]+", text):
            return int(text)
        self.error(cell, f"“{text}”不是整数，这里只写整数。")
        return None

    def date(self, cell: Cell) -> str | None:
        v = cell.value
        if isinstance(v, datetime):
            return v.date().isoformat()
        if isinstance(v, date):
            return v.isoformat()
        text = str(v).strip()
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if m is not None:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                pass
        self.error(cell, f"“{text}”不是日期，请写成 2027-01-20 这样。")
        return None

    def yes_no(self, cell: Cell) -> str | None:
        text = self.text(cell)
        if text in (L.YES, "√", "Y", "y"):
            return "true"
        if text in (L.NO, "×", "N", "n"):
            return "false"
        self.error(cell, f"只能填“{L.YES}”或“{L.NO}”，这里是“{text}”。")
        return None

    def choice(self, cell: Cell, choices: dict[str, str]) -> str | None:
        text = self.text(cell)
        if text is None:
            return None
        if text in choices:
            return choices[text]
        self.error(cell, f"“{text}”不是可选的值，可选：{'、'.join(choices)}。")
        return None


def _names(names: object) -> str:
    """Names listed in a message, each quoted: a name may itself hold 、."""
    return "、".join(f"“{n}”" for n in names)  # type: ignore[attr-defined]


def _header(text: str, wanted: dict[str, str]) -> str:
    """A header as matched: 现金（元） and 单价(元/公斤) are 现金 and 单价 — a unit in brackets is a note
    (unless the brackets are part of the header itself, as in 村（社区）)."""
    whole = header_key(text)
    if whole in wanted:
        return whole
    return header_key(re.sub(r"[（(][^（）()]*[)）]\s*$", "", text.strip()) or text)


def _text(v: object) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return str(v).strip()


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())
