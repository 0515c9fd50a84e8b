"""The plan workbook (慰问方案.xlsx) written: blank for a clerk to fill in, or holding a plan.

``weiwen rules template`` writes it blank (the 活动 sheet lists every item with its default);
``weiwen rules convert`` writes a YAML plan into it.  Its sheets and columns are those of
:mod:`weiwen.rules.layout`, which the reader uses too; :func:`weiwen.rules.load_rules` reads
back exactly the plan written here (tested over generated plans and every bundled campaign).

Every column has drop-down lists or input checks where the value is one of a few words or a
number, and a prompt with its meaning when a cell is selected.  The same plan gives the same
bytes.

Length: one writer per sheet, each short, sharing the formats and the option lists; the cell rules
(``_rule``) sit beside the writer so a column's check and its format cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from weiwen.core.atomic import write_atomic
from weiwen.core.text import display_lines, display_width
from weiwen.model.vocab import Vocabulary
from weiwen.rules import condtext
from weiwen.rules import layout as L
from weiwen.rules.schema import Condition, GoodsItem, Payable, Rules, Standard
from weiwen.sheets.xlsx import HEAD, new_workbook, normalize_xlsx

DATA_ROWS = 300
UNBROKEN = ("代码", "标准", "所属组合", "身份证号", "部分")
PORTRAIT_WIDTH = 100  # columns (characters) that fit A4 portrait at a readable size
NUMERIC = ("现金", "单价", "数量", "比例", "档次", "下限", "上限", "名额", "方案人数", "方案小计")  # rows prepared (text format, checks) below the header
_PER_ZH = {v: k for k, v in L.PER.items()}
_BY_ZH = {v: k for k, v in L.TIER_BY.items()}

HELP = [
    ("这是什么", "这份工作簿就是活动的慰问方案：把方案文件中的标准填进各张表，weiwen 按它核定每户的金额。"
             "用法：weiwen allocate 花名册文件夹 --rules 慰问方案.xlsx（检查写法：weiwen rules check 慰问方案.xlsx）。"),
    ("活动", "活动名称、活动代码、基准日期必须填写；其余按方案填写，不用的留空。“说明”列解释每一项。"),
    ("标准", "每项标准一行：代码、名称、对象类别（多个用顿号分开，满足其一即可）、计发方式、现金。"
           "“是否另行发放”填“是”的标准不参与比较，在最高标准之外另发，例如现役军人家属。"),
    ("组合包", "方案把几部分合成一项标准时（如低保户：取暖救助每户 600 元 + 生活补助每人 400 元），"
            "先写一行计发方式为“组合包”的标准（写代码、名称、对象类别），再在下面每个部分写一行："
            "“所属组合”写组合包的代码，“代码”不填。整包与其他标准比较，只发最高的一项。"),
    ("物资", "每种物资一行，“标准”写标准代码（组合包的物资还要写“部分”）。只知道总价时数量填 1、单价填总价。"),
    ("分档", "金额随户人口数、残疾等级或年龄变化时，每档一行：下限、上限（含）和现金。"
           "各档要首尾相接，不能有空档或重叠（如 1人户、2人户、3人及以上户：下限 1 上限 1；2 和 2；3 和空）。"),
    ("其他条件", "类别以外的条件写在“其他条件”列，例如：年龄≥80；60≤年龄<80；残疾等级≤2；户人口≥3；性别=女；"
             "村=李家湾村、赵寨村；与户主关系=户主；花名册中的其他列写成 列【家庭人均收入】<1290、列【困难原因】=患病、残疾 这样。"
             "几个条件用“且”（都要满足）或“或”（满足其一）连接，“非”表示不满足，可用括号："
             "类别=三无人员 或 类别=残疾人；户人口≥3 且 非 村=李家湾村。"),
    ("名额、排除", "名额：各村最多慰问的户数。排除：不予慰问的身份证号（整户取消），或花名册某列等于某值的户（如 上年已慰问 = 是）。"),
    ("方案合计", "方案正文写明的各项人数、小计和总金额；核定结果与之不符时 weiwen 会提示，便于核对方案和名册。"),
    ("单位和事件", "慰问的不是户时，“活动”表的“慰问对象”选“单位”（慰问单位名单：每行一个单位及其牵头部门）或“职工事件”"
              "（职工慰问登记表：每行一件事，如住院、结婚）。这时每行按一份计发：计发方式填“按户”，不分档、不写组合包；"
              "“全部”（写在其他条件中）表示名单上的每一个，如“各一线单位300元”；职工事件的慰问事由写在“对象类别”，"
              "其他写法在“类别”表加为别名；“次数限制”表写每人每年最多几次，超过的列入“待决定”。"),
    ("注意", "不要改表名和列名，不要隐藏行或表（隐藏的行也会生效）；金额只写数字，不写“元”。"
           "保存为 .xlsx；WPS 用户请选择“Excel 工作簿”格式。"),
]


def write_plan_book(target: Path, rules: Rules | None, vocab: Vocabulary, *, columns: Sequence[str] = ()) -> None:
    """The plan workbook at ``target`` (atomically): ``rules``, or blank when ``None``.  ``columns``:
    roster columns offered in the drop-downs beside the vocabulary's (a plan's own columns)."""
    def write(tmp: Path) -> None:
        _Book(tmp, rules, vocab, columns).write()
        normalize_xlsx(tmp)

    write_atomic(target, write)


class _Book:
    def __init__(self, path: Path, rules: Rules | None, vocab: Vocabulary, columns: Sequence[str]):
        self.wb = new_workbook(path)
        self.rules = rules
        self.vocab = vocab
        self.columns = list(dict.fromkeys([*columns, *_plan_columns(rules)]))
        f = self.wb.add_format
        self.head = f(HEAD)
        self.text = f({"num_format": "@", "valign": "top", "text_wrap": True, "border": 1})
        self.blank = f({"num_format": "@", "valign": "top", "text_wrap": True})  # a prepared row: no grid until filled
        # Numbers typed into a text cell stay text, which Excel's number checks then refuse: numeric
        # columns are never text-formatted.
        self.blank_number = f({"valign": "top", "align": "center"})
        self.bordered = f({"border": 1})
        self.wrap = f({"valign": "top", "text_wrap": True, "border": 1})
        self.number = f({"valign": "top", "border": 1, "align": "center"})
        self.date = f({"num_format": "yyyy-mm-dd", "valign": "top", "border": 1, "align": "left"})
        self.label = f({"bold": True, "valign": "top", "border": 1, "bg_color": "#F2F2F2"})
        self.required = f({"bold": True, "valign": "top", "border": 1, "bg_color": "#FCE4D6"})
        self.note = f({"valign": "top", "text_wrap": True, "border": 1, "font_color": "#595959"})
        self.title = f({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.part_text = f({"num_format": "@", "valign": "top", "text_wrap": True, "border": 1, "bg_color": "#FFF2CC"})
        self.part_number = f({"valign": "top", "border": 1, "align": "center", "bg_color": "#FFF2CC"})
        self.option_lists = {"类别": list(vocab.categories), "花名册列": self.columns or ["上年已慰问"]}
        self.option_columns = {name: f"={L.LIST_SHEET}!${xl_col_to_name(j)}$2:${xl_col_to_name(j)}${len(v) + 1}"
                               for j, (name, v) in enumerate(self.option_lists.items())}

    def write(self) -> None:
        title = f"慰问方案：{self.rules.campaign.name}" if self.rules else "慰问方案"
        self._campaign(title)
        self._table(L.STANDARDS, self._standard_rows(), title)
        self._table(L.GOODS, self._goods_rows(), title)
        self._table(L.TIERS, self._tier_rows(), title)
        r = self.rules
        self._table(L.QUOTAS, [[v, n] for v, n in (r.quotas.slots.items() if r and r.quotas else [])], title)
        self._table(L.EXCLUSIONS, self._exclusion_rows(), title)
        self._table(L.STATED, [[s.code, s.stated.count, s.stated.total] for s in (r.standards if r else [])
                               if s.stated is not None], title)
        self._table(L.CATEGORIES, [[n, d.parent, "、".join(d.aliases)] for n, d in (r.categories.items() if r else [])],
                    title)
        self._table(L.LIMITS, [["、".join(x.event), x.per_year] for x in (r.limits if r else [])], title)
        split = r.budget.split if r else None
        self._table(L.SPLIT, [[n, w] for n, w in (split.parts.items() if split else [])], title)
        self._help()
        self._options()
        self.wb.get_worksheet_by_name(L.CAMPAIGN.sheet).activate()
        self.wb.close()

    # --- 活动 ------------------------------------------------------------------------------

    def _campaign(self, title: str) -> None:
        ws = self.wb.add_worksheet(L.CAMPAIGN.sheet)
        for j, col in enumerate(L.CAMPAIGN.columns):
            ws.set_column(j, j, col.width)
            ws.write_string(0, j, col.header, self.head)
        for i, item in enumerate(L.CAMPAIGN_ITEMS, start=1):
            ws.write_string(i, 0, item.label, self.required if item.required else self.label)
            self._campaign_value(ws, i, item)
            note = ("（必填）" if item.required else "") + item.help
            ws.write_string(i, 2, note, self.note)
            ws.set_row(i, 15 * max(display_lines(note, int(L.CAMPAIGN.columns[2].width) - 2), 1) + 4)
            self._campaign_check(ws, i, item)
        self._print(ws, title, 0, portrait=True)
        ws.freeze_panes(1, 1)

    def _campaign_value(self, ws: Any, i: int, item: L.Item) -> None:
        value = _get(self.rules, item.path) if self.rules else None
        if self.rules is None:
            value = item.default or None
            if value is not None and item.kind == "int":
                ws.write_number(i, 1, int(value), self.number)
            elif value is not None:
                ws.write_string(i, 1, value, self.text)
            else:
                ws.write_blank(i, 1, None, self._blank_format(item))
            return
        if item.path == ("quotas", "refill") and self.rules.quotas is None:
            value = False
        if value is None or value == [] and item.kind == "list":
            ws.write_blank(i, 1, None, self._blank_format(item))
        elif item.kind == "date":
            ws.write_datetime(i, 1, _datetime(value), self.date)
        elif item.kind in ("money", "int"):
            ws.write_number(i, 1, float(value), self.number)
        elif item.kind == "bool":
            ws.write_string(i, 1, L.YES if value else L.NO, self.text)
        elif item.kind == "choice":
            names = {v: k for k, v in item.choices}
            ws.write_string(i, 1, names[str(value)], self.text)
        elif item.kind == "list":
            ws.write_string(i, 1, "、".join(value), self.text)
        elif item.kind == "choices":
            names = {v: k for k, v in item.choices}
            ws.write_string(i, 1, "、".join(names[v] for v in value), self.text)
        elif str(value) == "":
            ws.write_blank(i, 1, None, self.text)
        else:
            ws.write_string(i, 1, str(value), self.text)

    def _blank_format(self, item: L.Item) -> Any:
        return self.date if item.kind == "date" else self.number if item.kind in ("money", "int") else self.text

    def _campaign_check(self, ws: Any, i: int, item: L.Item) -> None:
        prompt = {"input_title": item.label[:32], "input_message": item.help[:250]}
        if item.kind == "date":
            ws.data_validation(i, 1, i, 1, {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1),
                                            "maximum": date(2100, 12, 31), "error_title": "日期",
                                            "error_message": "请填写日期，例如 2027-01-20。", **prompt})
        elif item.kind == "money":
            ws.data_validation(i, 1, i, 1, {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "金额",
                                            "error_message": "金额只填数字（元），不写“元”。", **prompt})
        elif item.kind == "int":
            ws.data_validation(i, 1, i, 1, {"validate": "integer", "criteria": ">=", "value": 0, "error_title": "整数",
                                            "error_message": "请填写整数。", **prompt})
        elif item.kind in ("choice", "bool"):
            words = [k for k, _ in item.choices] if item.kind == "choice" else [L.YES, L.NO]
            ws.data_validation(i, 1, i, 1, {"validate": "list", "source": words, "error_title": item.label[:32],
                                            "error_message": f"请从列表中选择：{'、'.join(words)}。", **prompt})
        else:
            ws.data_validation(i, 1, i, 1, {"validate": "any", **prompt})

    # --- the tables ------------------------------------------------------------------------

    def _table(self, table: L.Table, rows: list[list[Any]], title: str) -> None:
        ws = self.wb.add_worksheet(table.sheet)
        for j, col in enumerate(table.columns):
            if col.header in UNBROKEN:  # a code or an ID does not wrap: its column is as wide as the longest
                longest = max([display_width(str(r[j])) for r in rows if r[j] is not None] or [0])
                col = replace(col, width=max(col.width, min(longest + 2, 40)))
                table = replace(table, columns=tuple(col if c.header == col.header else c for c in table.columns))
            ws.set_column(j, j, col.width)
            ws.write_string(0, j, col.header, self.head)
        ws.set_row(0, 15 * max(display_lines(c.header, int(c.width)) for c in table.columns) + 6)
        grouped = self._package_rows() if table.sheet == L.STANDARDS.sheet else set()
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                self._cell(ws, i, j, value, table.columns[j].header, i in grouped)
            texts = [(str(v), table.columns[j].width) for j, v in enumerate(row) if isinstance(v, str)]
            ws.set_row(i, 15 * max([display_lines(t, int(w) - 1) for t, w in texts] or [1]) + 4)
        for i in range(len(rows) + 1, DATA_ROWS + 1):  # typed text stays text (an ID never becomes 1.1E+17)
            for j, col in enumerate(table.columns):
                ws.write_blank(i, j, None, self.blank_number if col.header in NUMERIC else self.blank)
        last = xl_col_to_name(len(table.columns) - 1)
        ws.conditional_format(len(rows) + 1, 0, DATA_ROWS, len(table.columns) - 1, {
            "type": "formula", "criteria": f"=COUNTA($A{len(rows) + 2}:${last}{len(rows) + 2})>0",
            "format": self.bordered})
        self._checks(ws, table)
        self._print(ws, title, 0, portrait=sum(c.width for c in table.columns) <= PORTRAIT_WIDTH)
        ws.freeze_panes(1, 0)

    def _cell(self, ws: Any, i: int, j: int, value: Any, header: str, grouped: bool = False) -> None:
        text, number = (self.part_text, self.part_number) if grouped else (self.text, self.number)
        if value is None or value == "":  # inside a filled row: bordered
            ws.write_blank(i, j, None, number if header in NUMERIC else text)
        elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            ws.write_number(i, j, float(value), number)
        else:
            ws.write_string(i, j, str(value), text)

    def _package_rows(self) -> set[int]:
        """The rows (1-based, as written) of every package and its parts: shaded, so they read as one."""
        out: set[int] = set()
        row = 1
        for s in self.rules.standards if self.rules else []:
            span = 1 + len(s.parts or [])
            if s.parts is not None:
                out.update(range(row, row + span))
            row += span
        return out

    def _checks(self, ws: Any, table: L.Table) -> None:
        last = DATA_ROWS
        for j, col in enumerate(table.columns):
            rule = _rule(table.sheet, col.header, self)
            prompt = {"input_title": col.header[:32], "input_message": col.help[:250]}
            ws.data_validation(1, j, last, j, {**(rule or {"validate": "any"}), **prompt})

    def _print(self, ws: Any, title: str, header_row: int, *, portrait: bool = False) -> None:
        ws.set_paper(9)
        if portrait:
            ws.set_portrait()
        else:
            ws.set_landscape()
        ws.repeat_rows(header_row)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        ws.set_header(f"&C&12{_escape(title)}（{ws.name}）")
        ws.set_footer("&C第 &P 页，共 &N 页")

    # --- rows of a plan ----------------------------------------------------------------------

    def _standard_rows(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        for s in self.rules.standards if self.rules else []:
            categories, other = _when_cells(s.when)
            stacking = L.YES if s.stacking else L.NO
            if s.parts is not None:
                out.append([s.code, s.name, categories, other, L.PACKAGE, None, None, stacking, None, s.note or None])
                for p in s.parts:
                    pc, po = _when_cells(p.when) if p.when is not None else (None, None)
                    out.append([None, p.name, pc, po, _PER_ZH[p.per], _cash(p), _yes(p.goods_once), None, s.code,
                                p.note or None])
            else:
                out.append([s.code, s.name, categories, other, _PER_ZH[s.per], _cash(s), _yes(s.goods_once), stacking,
                            None, s.note or None])
        return out

    def _pieces(self) -> list[tuple[Standard, str | None, Payable]]:
        out: list[tuple[Standard, str | None, Payable]] = []
        for s in self.rules.standards if self.rules else []:
            if s.parts is not None:
                out.extend((s, p.name, p) for p in s.parts)
            else:
                out.append((s, None, s))
        return out

    def _goods_rows(self) -> list[list[Any]]:
        out: list[list[Any]] = []

        def add(s: Standard, part: str | None, tier: int | None, goods: list[GoodsItem]) -> None:
            out.extend([s.code, part, tier, g.item, g.unit, g.quantity, g.unit_value] for g in goods)

        for s, part, p in self._pieces():
            add(s, part, None, p.goods)
            for k, step in enumerate(p.tiers.steps if p.tiers else [], start=1):
                add(s, part, k, step.goods or [])
        return out

    def _tier_rows(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        for s, part, p in self._pieces():
            if p.tiers is None:
                continue
            for k, step in enumerate(p.tiers.steps, start=1):
                mark = None if step.goods is None else L.TIER_GOODS_LISTED if step.goods else L.TIER_GOODS_NONE
                out.append([s.code, part, k, _BY_ZH[p.tiers.by], step.min, step.max, step.cash, mark])
        return out

    def _exclusion_rows(self) -> list[list[Any]]:
        if self.rules is None:
            return []
        ex = self.rules.exclusions
        rows: list[list[Any]] = [[i, None, None, None] for i in ex.ids]
        for k, (col, value) in enumerate(ex.column.items()):
            if k < len(rows):
                rows[k][1:3] = [col, value]
            else:
                rows.append([None, col, value, None])
        return rows

    # --- 填写说明, 选项 -------------------------------------------------------------------------

    def _help(self) -> None:
        ws = self.wb.add_worksheet(L.HELP_SHEET)
        widths = (12, 80)
        ws.set_column(0, 0, widths[0])
        ws.set_column(1, 1, widths[1])
        ws.merge_range(0, 0, 0, 1, "慰问方案填写说明", self.title)
        ws.set_row(0, 30)
        for i, (key, text) in enumerate(HELP, start=1):
            ws.write_string(i, 0, key, self.label)
            ws.write_string(i, 1, text, self.wrap)
            ws.set_row(i, 16 * display_lines(text, widths[1] - 2) + 6)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 1)
        ws.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
        ws.center_horizontally()

    def _options(self) -> None:
        self.lists = self.wb.add_worksheet(L.LIST_SHEET)
        for j, (name, values) in enumerate(self.option_lists.items()):
            self.lists.write_string(0, j, name)
            for i, v in enumerate(values, start=1):
                self.lists.write_string(i, j, v)
        self.lists.hide()


def _rule(sheet: str, header: str, book: _Book) -> dict[str, Any] | None:
    """The input check of one column (``None``: any text)."""
    def words(values: list[str], free: bool = False) -> dict[str, Any]:
        return {"validate": "list", "source": values, "error_type": "information" if free else "stop",
                "error_title": header, "error_message": f"请从列表中选择：{'、'.join(values)}。"}

    def decimal(minimum: float, what: str) -> dict[str, Any]:
        return {"validate": "decimal", "criteria": ">=" if minimum == 0 else ">", "value": 0, "error_title": header,
                "error_message": f"{what}只填数字，不写单位。"}

    def integer() -> dict[str, Any]:
        return {"validate": "integer", "criteria": ">=", "value": 0, "error_title": header,
                "error_message": "请填写整数。"}

    def listed(option: str) -> dict[str, Any]:
        source = book.option_columns[option]
        said = ("该类别不在列表中；多个类别用顿号分开，新的类别请在“类别”表中说明。" if option == "类别" else
                "该列不在常见列中；请与花名册的表头一致。")
        return {"validate": "list", "source": source, "error_type": "information", "error_title": header,
                "error_message": said}

    if header in ("现金", "单价", "方案小计"):
        return decimal(0, "金额")
    if header in ("数量", "比例"):
        return decimal(1, header)
    if header in ("档次", "下限", "上限", "名额", "方案人数"):
        return integer()
    if header == "计发方式":
        return words([*L.PER, L.PACKAGE])
    if header in ("物资只发一次", "是否另行发放"):
        return words([L.YES, L.NO])
    if header == "分档依据":
        return words(list(L.TIER_BY))
    if header == "本档物资":
        return words([L.TIER_GOODS_NONE, L.TIER_GOODS_LISTED])
    if header in ("对象类别", "上级类别"):
        return listed("类别")
    if header == "花名册列":
        return listed("花名册列")
    if header == "身份证号":
        return {"validate": "length", "criteria": "between", "minimum": 15, "maximum": 18, "error_type": "warning",
                "error_title": header, "error_message": "身份证号应为 18 位（旧证 15 位）。"}
    if header == "标准" and sheet != L.STANDARDS.sheet:
        return {"validate": "list", "source": f"={L.STANDARDS.sheet}!$A$2:$A${DATA_ROWS + 1}", "error_type": "information",
                "error_title": header, "error_message": "请填写“标准”表中的代码。"}
    return None


def _when_cells(when: Condition) -> tuple[str | None, str | None]:
    """对象类别 and 其他条件 of a standard: a leading category test goes to 对象类别."""
    if when.category is not None:
        return condtext.join_values(when.category), None
    if when.all is not None and when.all and when.all[0].category is not None:
        rest = when.all[1:]
        other = Condition(all=rest) if len(rest) > 1 else rest[0] if rest else None
        return condtext.join_values(when.all[0].category), condtext.render(other) if other is not None else None
    return None, condtext.render(when)


def _plan_columns(rules: Rules | None) -> list[str]:
    if rules is None:
        return []
    out = list(rules.exclusions.column)
    for s in rules.standards:
        for when in (s.when, *(p.when for p in s.parts or () if p.when is not None)):
            out.extend(leaf.column for leaf in when.leaves() if leaf.column is not None)
    return out


def _get(rules: Rules, path: tuple[str, ...]) -> Any:
    node: Any = rules
    for key in path:
        node = getattr(node, key, None)
        if node is None:
            return None
    return node


def _cash(p: Payable) -> Decimal | None:
    """The 现金 cell: blank where the tiers say the amounts (a 0 there reads as "pays nothing")."""
    return None if p.tiers is not None and p.cash == 0 else p.cash


def _yes(flag: bool) -> str | None:
    return L.YES if flag else None


def _datetime(d: date) -> Any:
    from datetime import datetime

    return datetime(d.year, d.month, d.day)


def _escape(text: str) -> str:
    return text.replace("&", "&&")
