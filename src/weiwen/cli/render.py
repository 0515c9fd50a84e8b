"""All rich output of the commands lives here, so each command reads: load, check, render, exit."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from weiwen import problems as P
from weiwen.intake import Intake

_STYLE = {P.Severity.ERROR: "red", P.Severity.WARNING: "yellow", P.Severity.INFO: "dim"}


def validation(console: Console, intake: Intake, *, show: int, reports: list[Path]) -> None:
    table = Table(title="花名册校验结果", title_justify="left")
    for col, justify in (("文件", "left"), ("工作表", "left"), ("人数", "right"), ("合格", "right"),
                         ("错误", "right"), ("警告", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for f in intake.files:
        if not f.sheets:
            table.add_row(escape(f.path), "—", "0", "0", str(f.errors), "0", style="red" if not f.readable else None)
        for s in f.sheets:
            table.add_row(escape(f.path), escape(s.name), str(s.rows), str(s.valid), str(s.errors), str(s.warnings),
                          style="red" if s.errors else None)
    console.print(table)

    errors, warnings = intake.errors, intake.warnings
    if errors or warnings:
        kinds = Counter((p.severity, p.code) for p in (*errors, *warnings))
        by_kind = Table(title="问题分类", title_justify="left")
        by_kind.add_column("级别")
        by_kind.add_column("问题")
        by_kind.add_column("代码")
        by_kind.add_column("条数", justify="right")
        for (sev, code), n in sorted(kinds.items(), key=lambda kv: (kv[0][0] != P.Severity.ERROR, -kv[1])):
            by_kind.add_row(P.SEVERITY_ZH[sev], P.kind(code).title, code, str(n), style=_STYLE[sev])
        console.print(by_kind)

    listed = [*errors, *warnings]
    for p in listed[:show]:
        console.print(f"[{_STYLE[p.severity]}]{P.SEVERITY_ZH[p.severity]}[/] {escape(p.location_zh())}："
                      f"{escape(p.message)}" + (f"（{escape(p.hint)}）" if p.hint else ""), markup=True)
    if len(listed) > show:
        console.print(f"……另有 {len(listed) - show} 条问题未列出，完整清单请用 --report 或 --json。")
    for p in intake.infos:
        if p.code.startswith(("rows-skipped", "sheet-", "village-", "merged-")):
            console.print(f"[dim]提示 {escape(p.location_zh())}：{escape(p.message)}[/]", markup=True)

    console.print(
        f"共 {len(intake.files)} 个文件，{intake.rows} 人，合格 {intake.valid_rows} 人；"
        f"错误 {len(errors)} 条，警告 {len(warnings)} 条。"
    )
    for path in reports:
        console.print(f"已写出标注副本：{escape(str(path))}")
