"""``weiwen budget``: how much is needed, of what, where — and how a fixed fund splits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from weiwen.cli.allocate import CampaignOpt, LedgerUrlOpt, RulesOpt
from weiwen.cli.common import AliasesOpt, JsonOpt, SheetOpt, err_console, out_console, rosters
from weiwen.core.errors import ExitCode, WeiwenError

if TYPE_CHECKING:
    from weiwen.budget import BudgetFigures
    from weiwen.core.problems import Problem

HELP = """经费预算：按慰问标准核定（与 weiwen allocate 用同一套计算，总数一致），输出经费预算表、分村汇总、
物资采购清单和资金测算（对照下拨资金算缺口或结余，按比例分配固定资金），附 Excel 图表。

不写花名册文件时，读取方案中“花名册位置”（规则文件的 campaign.rosters）指定的花名册（相对于当前目录）。

示例：weiwen budget --campaign spring --ceiling 50000
"""


def budget(
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="花名册", show_default=False,
        help="花名册文件或文件夹，可以用通配符；不写时用方案中的花名册位置（campaign.rosters）。")] = None,
    campaign: CampaignOpt = None,
    rules: RulesOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="文件夹", help="经费预算.xlsx 保存到这个文件夹。")] = Path("预算"),
    ceiling: Annotated[str | None, typer.Option(
        "--ceiling", metavar="金额", help="上级下拨资金（元），覆盖规则文件中的 budget.ceiling。")] = None,
    against: Annotated[Path | None, typer.Option(
        "--compare", metavar="上次结果", help="与以前一次核定结果比较：那次 weiwen allocate 的输出文件夹（或其中的 summary.json）。")] = None,
    sheet: SheetOpt = None,
    as_json: JsonOpt = False,
    aliases: AliasesOpt = None,
    ledger: LedgerUrlOpt = None,
) -> None:
    from weiwen.app.pipeline import budget_campaign
    from weiwen.cli import render
    from weiwen.core import jsonout
    from weiwen.rules import campaign_vocabulary, plan_for, roster_paths

    limit = _money(ceiling) if ceiling is not None else None
    given = rosters(files)
    loaded = plan_for(campaign, rules)
    with err_console().status("正在读取花名册……") as status:
        done = budget_campaign(rosters(roster_paths(loaded, given)), loaded, campaign_vocabulary(loaded, aliases), output,
                               ceiling=limit, compare_with=against, sheet=sheet, ledger_url=ledger,
                               progress=lambda f: status.update(f"正在读取 {f} ……"),
                               writing=lambda: status.update("正在写出预算……"))
    intake, decision, b = done.intake, done.decision, done.figures
    if decision is None or b is None:
        render.validation(err_console(), intake, show=20, reports=[])
        raise typer.Exit(int(ExitCode.USAGE))
    target = done.written[0]
    if as_json:
        typer.echo(jsonout.dumps({**budget_json(b, [target]), "findings": _budget_findings_json(decision.findings)}))
    else:
        render.budget(out_console(), b, target, loaded.rules.campaign.name)
        render.findings(out_console(), decision.findings)
        render.left_out(out_console(), decision, budget=True)  # the budget leaves them out: say so
    raise typer.Exit(int(ExitCode.PROBLEMS if intake.errors else ExitCode.OK))


def budget_json(b: BudgetFigures, outputs: list[Path]) -> dict[str, object]:
    return {
        "total": str(b.total), "cash": str(b.cash), "goods_value": str(b.goods_value),
        "by_standard": {s.code: {"name": s.name, "households": s.households, "units": s.units, "per_unit": s.per_unit,
                                 "cash": str(s.cash), "goods_value": str(s.goods_value), "total": str(s.total)}
                        for s in b.standards},
        "cap_cut": str(b.cap_cut),
        "by_village": {v: {"township": t, "households": h, "persons": p, "cash": str(c), "goods_value": str(g),
                           "total": str(c + g)} for t, v, h, p, c, g in b.villages},
        "goods": [{"item": g.item, "unit": g.unit, "quantity": f"{g.quantity:f}", "value": str(g.value)} for g in b.goods],
        "ceiling": None if b.ceiling is None else str(b.ceiling),
        "shortfall": None if b.shortfall is None else str(b.shortfall),
        "split": [{"part": n, "amount": str(a)} for n, a in b.split],
        "over_quota": b.over_quota,
        "compare": [{"kind": c.kind, "name": c.name, "households_before": c.households_before,
                     "households_now": c.households_now, "total_before": str(c.total_before),
                     "total_now": str(c.total_now), "change": str(c.change)} for c in b.compare],
        "outputs": [str(p) for p in outputs],
    }


def _budget_findings_json(findings: list[Problem]) -> list[dict[str, object]]:
    from weiwen.core.problems import Severity

    return [f.as_json() for f in findings if f.severity is not Severity.INFO]


def _money(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace("元", ""))
    except InvalidOperation:
        raise WeiwenError(f"--ceiling 的金额“{text}”无法识别，请写成 50000 或 50000.00。") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise WeiwenError(f"--ceiling 的金额“{text}”应为不小于 0、最多两位小数的数。")
    return value.quantize(Decimal("0.01"))
