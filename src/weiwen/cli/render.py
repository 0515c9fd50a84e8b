"""All rich output of the commands lives here, so each command reads: load, check, render, exit.

Text columns fold (a long standard's name continues on the next line instead of ending in "…");
problems are named by their Chinese title — the stable codes are for ``--json`` only.
"""

from __future__ import annotations

import os

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from weiwen.core import problems as P
from weiwen.model.recipients import COUNT_LABEL, RecipientKind

if TYPE_CHECKING:  # only named in annotations: importing them would load pandas at every start
    from weiwen.app.campaign import Versioned
    from weiwen.budget import BudgetFigures
    from weiwen.decision import Decision
    from weiwen.dedupe import Group
    from weiwen.roster.intake import Intake
    from weiwen.rules import LoadedRules

_STYLE = {P.Severity.ERROR: "red", P.Severity.WARNING: "yellow", P.Severity.INFO: "dim"}


def table(title: str, columns: list[tuple[str, str]] | tuple[str, ...]) -> Table:
    """A titled table whose columns wrap and fold: nothing is cut off at 80 columns.  ``columns`` are
    headers, or (header, "right") for a column of numbers."""
    t = Table(title=title, title_justify="left")
    for col in columns:
        header, justify = (col, "left") if isinstance(col, str) else col
        t.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return t


LINE_NOUN = {RecipientKind.HOUSEHOLD: ("人数", "人"), RecipientKind.UNIT: ("单位数", "个单位"),
             RecipientKind.PERSON: ("行数", "行")}


def validation(console: Console, intake: Intake, *, show: int, reports: list[Path]) -> None:
    head, unit = LINE_NOUN[intake.kind]
    files = table("花名册校验结果" if intake.kind is RecipientKind.HOUSEHOLD else "名单校验结果",
                  ("文件", "工作表", (head, "right"), ("合格", "right"), ("错误", "right"), ("警告", "right")))
    for f in intake.files:
        if not f.sheets:
            files.add_row(escape(f.path), "—", "0", "0", str(f.errors), "0", style="red" if not f.readable else None)
        for s in f.sheets:
            files.add_row(escape(f.path), escape(s.name), str(s.rows), str(s.valid), str(s.errors), str(s.warnings),
                          style="red" if s.errors else None)
    console.print(files)

    errors, warnings = intake.errors, intake.warnings
    if errors or warnings:
        kinds = Counter((p.severity, p.code) for p in (*errors, *warnings))
        by_kind = table("问题分类", ("级别", "问题", ("条数", "right")))
        for (sev, code), n in sorted(kinds.items(), key=lambda kv: (kv[0][0] != P.Severity.ERROR, -kv[1])):
            by_kind.add_row(P.SEVERITY_ZH[sev], title(code), str(n), style=_STYLE[sev])
        console.print(by_kind)

    listed = [*errors, *warnings]
    for p in listed[:show]:
        console.print(f"[{_STYLE[p.severity]}]{P.SEVERITY_ZH[p.severity]}[/] {escape(p.location_zh())}："
                      f"{escape(p.message)}" + (f"（{escape(p.hint)}）" if p.hint else ""), markup=True)
    if len(listed) > show:
        console.print(f"……另有 {len(listed) - show} 条问题未列出，完整清单请用 --report 或 --json。")
    for p in intake.infos:
        if p.code.startswith(("rows-skipped", "sheet-", "village-", "merged-", "blank-", "text-guard", "household-rows", "filled-")):
            console.print(f"[dim]提示 {escape(p.location_zh())}：{escape(p.message)}[/]", markup=True)

    console.print(
        f"共 {len(intake.files)} 个文件，{intake.rows} {unit}，合格 {intake.valid_rows} {unit}；"
        f"错误 {len(errors)} 条，警告 {len(warnings)} 条。"
    )
    for path in reports:
        what = "校验报告" if path.suffix == ".json" else "标注副本"
        console.print(f"已写出{what}：{escape(str(path))}")


def title(code: str) -> str:
    """A problem code's Chinese title (an unknown code, from a newer catalogue, shows as itself)."""
    try:
        return P.kind(code).title
    except KeyError:
        return code


def decision(console: Console, d: Decision, outputs: list[Path], intake: Intake) -> None:
    shown = table(f"{escape(d.plan.rules.campaign.name)} 核定结果",
                  ("慰问标准", *((c, "right") for c in (COUNT_LABEL[d.kind], "现金（元）", "物资折价（元）", "合计（元）"))))
    for s in d.by_standard.values():
        shown.add_row(escape(str(s["name"])), str(s["households"]), str(s["cash"]), str(s.get("goods_value", "")),
                      str(s["total"]))
        for part in s.get("parts", []):  # type: ignore[attr-defined]
            shown.add_row(f"  其中：{escape(str(part['name']))}", str(part["households"]), str(part["cash"]),
                          str(part["goods_value"]), str(part["total"]), style="dim")
    shown.add_row("合计", str(len(d.table)), str(d.cash), str(d.goods_value), str(d.total), style="bold")
    console.print(shown)
    findings(console, d.findings)
    left_out(console, d)
    if intake.errors:
        console.print(f"[yellow]花名册有 {len(intake.errors)} 条错误，相关行未参与核定；"
                      "可用 weiwen validate --report 生成标注副本发回修改。[/]", markup=True)
    written(console, outputs)


def written(console: Console, outputs: list[Path]) -> None:
    """The files written: those of the output folder by name, a subfolder of per-village files
    (公示名单/, 签领表/) as one line with its count."""
    if not outputs:
        return
    top = outputs[0].parent
    folders: dict[Path, int] = {}
    for p in outputs:
        if p.parent != top and p.parent.parent == top:
            folders[p.parent] = folders.get(p.parent, 0) + 1
        else:
            console.print(f"已写出：{escape(str(p))}")
    for folder, n in folders.items():
        console.print(f"已写出：{escape(str(folder))}{os.sep}（{n} 个文件，每村(社区)一个）")


def problems(console: Console, found: list[P.Problem]) -> None:
    """Problems of a file other than a roster (a bank return file): where, and what, in a table."""
    shown = table(f"发现 {len(found)} 处问题", ("文件", "工作表", "行", "列", "问题", "说明", "怎么办"))
    for p in found:
        shown.add_row(escape(p.file), escape(p.sheet or ""), str(p.row or ""), escape(p.column or ""), title(p.code),
                      escape(p.message), escape(p.hint or ""))
    console.print(shown)


def version(console: Console, v: Versioned) -> None:
    """What allocate --ledger made of this run: which version, and what changed since the posted one."""
    if v.new:
        console.print(f"这是第 {v.number} 版名单（{escape(v.reason)}）。公示后请运行 weiwen publish 登记公示版本。")
    else:
        console.print(f"核定结果与第 {v.number} 版相同，版本号不变。")
    if v.changes_book is not None:
        a, d, c = v.change_counts
        console.print(f"与公示版本相比：新增 {a} 户，取消 {d} 户，变更 {c} 户；变更清单：{escape(str(v.changes_book))}")
    if not v.approved:
        console.print("签领表在审批后生成：weiwen approve 核定结果文件夹 --org 发放单位")


MODE_ZH = {"highest": "按最高标准只发一项", "priority": "按优先顺序只发一项", "all": "符合的各项都发"}
SCOPE_ZH = {"household": "每户", "person": "每人"}


def findings(console: Console, problems: list[P.Problem], *, notes: bool = False) -> None:
    """The rules check's findings on a run: warnings always, notes (提示) when asked."""
    for p in problems:
        if p.severity is P.Severity.INFO and not notes:
            continue
        if p.sheet:  # a plan workbook's cell
            where = (f"方案工作表“{p.sheet}”" + (f"第 {p.row} 行" if p.row else "") + (f"“{p.column}”列" if p.column else "")
                     + (f"（{p.cell}）" if p.cell else "") + "：")
        else:
            where = f"规则文件第 {p.row} 行：" if p.row else ""  # the rules file's line, not a roster's row
        console.print(f"[{_STYLE[p.severity]}]{P.SEVERITY_ZH[p.severity]}[/] {where}{escape(p.message)}"
                      + (f"（{escape(p.hint)}）" if p.hint and p.severity is not P.Severity.INFO else ""), markup=True)


def rules_findings(console: Console, loaded: LoadedRules, problems: list[P.Problem]) -> None:
    r = loaded.rules
    c = r.combination
    how = MODE_ZH[c.mode] if c.mode == "all" else f"{SCOPE_ZH[c.scope]}{MODE_ZH[c.mode]}"
    what = "方案表格" if loaded.located is not None and loaded.located.in_workbook else "规则文件"
    console.print(f"{what} {escape(str(loaded.path))}：{escape(r.campaign.name)}（{r.campaign.code}），"
                  f"{len(r.standards)} 项标准，{how}" + (f"，每户上限 {r.cap} 元" if r.cap else ""))
    order = {P.Severity.ERROR: 0, P.Severity.WARNING: 1, P.Severity.INFO: 2}
    findings(console, sorted(problems, key=lambda p: order[p.severity]), notes=True)
    errors = sum(p.severity is P.Severity.ERROR for p in problems)
    console.print("没有发现错误。" if not errors else f"发现 {errors} 处错误，weiwen allocate 将拒绝核定。")


def left_out(console: Console, d: Decision, *, budget: bool = False) -> None:
    """未纳入：行有错误 3 条，待决定 1 条（详见…表）: what the figures leave out, and where it is listed."""
    kinds = Counter(x.kind for x in d.left_out)
    if not kinds:
        return
    sheets = ["未纳入"]
    if d.kind is not RecipientKind.HOUSEHOLD:  # held events have sheets of their own
        sheets = [k for k in ("待决定", "不同意") if k in kinds] + (["未纳入"] if set(kinds) - {"待决定", "不同意"} else [])
    where = "、".join(f"“{s}”" for s in sheets)
    said = f"不在预算之内，详见 weiwen allocate 写出的{where}表" if budget else f"详见{where}表"
    console.print("未纳入：" + "，".join(f"{k} {n} 条" for k, n in kinds.items()) + f"（{said}）")


def budget(console: Console, b: BudgetFigures, target: Path, name: str) -> None:
    shown = table(f"{escape(name)} 经费预算", ("慰问标准", *((c, "right") for c in (
        COUNT_LABEL[b.kind], "计发人次", "单位标准", "现金（元）", "物资折价（元）", "小计（元）"))))
    for s in b.standards:
        shown.add_row(escape(s.name), str(s.households), str(s.units), s.per_unit, str(s.cash), str(s.goods_value),
                      str(s.total))
        for part in s.parts:
            shown.add_row(f"  其中：{escape(part.name)}", str(part.households), str(part.units), part.per_unit,
                          str(part.cash), str(part.goods_value), str(part.total), style="dim")
    if b.cap_cut:
        shown.add_row("每户上限扣减", "", "", "", f"-{b.cap_cut}", "", f"-{b.cap_cut}")
    shown.add_row("合计", "", "", "", str(b.cash), str(b.goods_value), str(b.total), style="bold")
    console.print(shown)
    if b.goods:
        console.print("物资采购：" + "；".join(f"{escape(g.item)} {g.quantity:f} {escape(g.unit)}（{g.value} 元）"
                                          for g in b.goods))
    if b.ceiling is not None:
        gap = b.shortfall or 0
        console.print(f"上级下拨资金 {b.ceiling} 元，" + (f"[red]缺口 {gap} 元[/]" if gap > 0 else f"结余 {-gap} 元"),
                      markup=True)
    if b.over_quota:
        console.print("超出名额、未列入预算：" + "；".join(f"{escape(v)} {n} 户" for v, n in sorted(b.over_quota.items())))
    if b.split:
        console.print(f"资金分配（{escape(b.split_rule)}）：" + "；".join(f"{escape(n)} {a} 元" for n, a in b.split))
    if b.compare:
        total = b.compare[-1]
        console.print(f"与“{escape(b.compare_with)}”相比：户数 {total.households_before} → {total.households_now}，"
                      f"金额 {total.total_before} → {total.total_now}（{'+' if total.change >= 0 else ''}{total.change} 元）")
    console.print(f"已写出：{escape(str(target))}")


def duplicates(console: Console, groups: list[Group], output: Path | None) -> None:
    from weiwen.dedupe import KIND_ZH

    decided = sum(g.kind == "decided" for g in groups)
    shown = table(f"重复核查：{len(groups) - decided} 组" + (f"（另有 {decided} 组已认定为不同的人）" if decided else ""),
                  ("组", "类型", "原因", "文件", "行", "村(社区)", "姓名", "身份证号"))
    for n, g in enumerate(groups, start=1):
        for k, r in enumerate(g.records):
            shown.add_row(str(n) if k == 0 else "", KIND_ZH[g.kind] if k == 0 else "", escape(g.reason) if k == 0 else "",
                          escape(r.file), str(r.row), escape(r.village), escape(r.name), r.id_masked)
    console.print(shown if groups else "没有发现重复。")
    if any(g.kind == "suspected" for g in groups):
        console.print("核实疑似重复后，可以记下认定，以后不再列出：weiwen duplicates decide 身份证号1 身份证号2 "
                      "--different（或 --same）--reason 核实情况 --ledger 台账")
    if output is not None:
        console.print(f"已写出：{escape(str(output))}")
