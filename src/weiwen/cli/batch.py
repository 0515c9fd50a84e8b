"""``weiwen run`` (unattended, for cron) and ``weiwen sample`` (the audit sample: ``draw``, ``import``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from weiwen.model.recipients import COUNT_LABEL, RecipientKind
from rich.markup import escape

from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, JsonOpt, guarded, out_console, output_file
from weiwen.core.errors import ExitCode, WeiwenError

RUN_HELP = """无人值守运行（供定时任务调用）：按方案中的花名册位置（campaign.rosters）和运行设置，
依次校验、查重、核定、预算，结果写到输出文件夹下以时间命名的子文件夹（如 2027-01-10T0200），附 manifest.json；
全部写好后才在“最新结果.txt”中记下它。同一活动同时只能运行一个（另一个以退出码 3 退出）；中途被终止不会留下半成品，也不会改动以前的结果。

退出码：0 正常；1 数据有错误或有重复；2 配置错误；3 另一任务正在运行；4 内部错误。
"""

RUN_SHORT = "无人值守运行（供定时任务调用）：校验、查重、核定、预算一次完成。"

SAMPLE_HELP = """抽查：从核定结果中按村分层随机抽取（每村至少 1 户），生成带联系电话和核实结果栏的“抽查名单”；
核查人员填好后汇总核实结果。

抽取：weiwen sample 核定结果文件夹 --rate 10% --seed 2027（即 weiwen sample draw，可以简写）

汇总：weiwen sample import 抽查名单.xlsx
"""

DRAW_HELP = """按村分层随机抽取（每村按比例向上取整，至少 1 户），生成带联系电话和核实结果栏的“抽查名单”；
种子相同，抽到的户相同。weiwen sample draw 可以简写为 weiwen sample。

示例：weiwen sample 核定结果 --rate 10% --seed 2027
"""

_COUNTS = {"rows": ("行数", ""), "valid_rows": ("合格行数", ""), "errors": ("错误", " 条"), "warnings": ("警告", " 条"),
           "duplicate_groups": ("重复", " 组"), "households": ("户数", ""), "total": ("合计", " 元"),
           "budget_total": ("预算合计", " 元")}


def counts_zh(counts: dict[str, object]) -> str:
    """weiwen run's counts as a clerk reads them: 行数 169，合格行数 169，错误 0 条……合计 51340.00 元."""
    said = []
    kind = RecipientKind(str(counts.get("kind", RecipientKind.HOUSEHOLD.value)))
    for key, value in counts.items():
        if key == "kind":
            continue
        name, unit = (COUNT_LABEL[kind], "") if key == "households" else _COUNTS.get(key, (key, ""))
        said.append(f"{name} {value}{unit}")
    return "，".join(said)


def run(
    campaign: Annotated[str, typer.Argument(metavar="活动", help="活动名（rules/活动名.yaml 或 .xlsx），或方案文件的路径。",
                                            show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", metavar="文件夹", help="输出文件夹（默认用规则文件中的 run.output）。")] = None,
    if_changed: Annotated[bool, typer.Option("--if-changed", help="花名册和规则都没变时跳过。")] = False,
    as_json: JsonOpt = False,
) -> None:
    from weiwen.app.run import run_campaign
    from weiwen.core import jsonout
    from weiwen.rules import PLAN_SUFFIXES, RULES_SUFFIXES, campaign_vocabulary, find_campaign, load_rules

    path = Path(campaign)
    given = path.suffix.lower() in (*RULES_SUFFIXES, *PLAN_SUFFIXES) and path.is_file()
    loaded = load_rules(path if given else find_campaign(campaign))
    result = run_campaign(loaded, campaign_vocabulary(loaded), out, if_changed)
    doc = {"status": result.status, "exit_status": int(result.exit_code),
           "folder": str(result.folder) if result.folder else None, "counts": result.counts}
    if as_json:
        typer.echo(jsonout.dumps(doc))
    elif result.status == "skipped":
        out_console().print("花名册和规则都没有变化，已跳过。")
    else:
        out_console().print(f"运行完成：{escape(str(result.folder))}，{counts_zh(result.counts)}")
    raise typer.Exit(int(result.exit_code))


class SampleGroup(ChineseHelpGroup):
    """``weiwen sample``: ``draw`` unless the first word names another command, so the short form
    ``weiwen sample 核定结果 --rate 10%`` draws and ``weiwen sample import --help`` is import's help."""

    default_command = "draw"

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


sample_app = typer.Typer(cls=SampleGroup, no_args_is_help=True, help=SAMPLE_HELP, short_help="抽查：随机抽取核实名单，汇总核实结果。")

_RATE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([%％]?)")


def parse_rate(text: str) -> float:
    """--rate: "10%" or "0.1" (a share of each village's households), more than 0 and at most 100%."""
    m = _RATE.fullmatch(text.strip())
    if m is None:
        raise WeiwenError(f"--rate 的比例“{text}”无法识别，请写成 10% 或 0.1 的形式。", code="sample-rate")
    value = float(m[1]) / (100 if m[2] else 1)
    if not 0 < value <= 1:
        raise WeiwenError(f"--rate 的比例“{text}”应大于 0、不超过 100%（写成 10% 或 0.1 的形式）。", code="sample-rate")
    return value


@sample_app.command("draw", cls=ChineseHelpCommand, help=DRAW_HELP, short_help="按村分层随机抽取，生成抽查名单。")
@guarded
def draw(
    folder: Annotated[Path, typer.Argument(metavar="核定结果", show_default=False,
                                           help="核定结果文件夹（或其中的 allocation.csv）。")],
    rate: Annotated[str, typer.Option("--rate", metavar="比例", help="每村抽取的比例，写成 10% 或 0.1。")] = "10%",
    per: Annotated[str, typer.Option("--per", metavar="分层", help="按什么分层：目前只能按村（写 村）。")] = "村",
    seed: Annotated[int, typer.Option("--seed", metavar="数字", help="随机种子，写在表上；同一种子抽到同样的户。")] = 1,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="文件", help="抽查名单保存到这个 .xlsx 文件（默认写在核定结果文件夹中）。")] = None,
    as_json: JsonOpt = False,
) -> None:
    share = parse_rate(rate)
    if per not in ("村", "village"):
        raise WeiwenError("--per 目前只能按村分层（写 村）。", code="usage")
    from weiwen.audit import draw as draw_households, read_allocation
    from weiwen.sheets.audit_book import write_sample

    households = read_allocation(folder)
    chosen = draw_households(households, share, seed)
    method = (f"抽样方法：按村(社区)分层，每村随机抽取 {share:.0%}（向上取整，至少 1 户），随机种子 {seed}；"
              f"共 {len({h.village for h in households})} 个村 {len(households)} 户，抽取 {len(chosen)} 户。")
    default = folder if folder.is_dir() else Path(".")
    target_file = output_file(output, ".xlsx", "抽查名单.xlsx") if output is not None else default / "抽查名单.xlsx"
    write_sample(target_file, chosen, campaign_title(folder), method)
    if as_json:
        typer.echo(json.dumps({"households": len(households), "sampled": len(chosen), "seed": seed,
                               "output": str(target_file)}, ensure_ascii=False))
    else:
        out_console().print(f"{method}\n已写出：{escape(str(target_file))}")


@sample_app.command("import", cls=ChineseHelpCommand, short_help="读回填好的抽查名单，按村汇总核实结果。")
@guarded
def import_(
    path: Annotated[Path, typer.Argument(metavar="抽查名单", show_default=False, help="核查人员填好的抽查名单（.xlsx）。")],
    as_json: JsonOpt = False,
) -> None:
    """读回核查人员填好的抽查名单，按村汇总核实结果，列出未收到、金额不符的户，指出无法识别的结果和未填写的户数。

    退出码：0 都已核实无误；1 有未收到、金额不符或无法识别的结果。
    """
    from weiwen.audit import findings, read_filled
    from weiwen.core import jsonout

    f = findings(read_filled(path))
    if as_json:
        typer.echo(jsonout.dumps({"by_village": {v: dict(c) for v, c in f.by_village.items()},
                                  "discrepancies": [{"village": v, "head": h, "result": r, "detail": d}
                                                    for v, h, r, d in f.discrepancies],
                                  "unfilled": f.unfilled, "invalid": [{"row": r, "value": v} for r, v in f.invalid]}))
    else:
        console = out_console()
        for village, counter in sorted(f.by_village.items()):
            console.print(f"{escape(village)}：" + "，".join(f"{k} {n} 户" for k, n in counter.items()))
        for v, h, r, d in f.discrepancies:
            console.print(f"[red]{escape(r)}[/] {escape(v)} {escape(h)} {escape(d)}", markup=True)
        for row, value in f.invalid:
            console.print(f"第 {row} 行的核实结果“{escape(value)}”无法识别，应为已收到、未收到、金额不符或联系不上。")
        if f.unfilled:
            console.print(f"还有 {f.unfilled} 户没有填写核实结果。")
    raise typer.Exit(int(ExitCode.PROBLEMS if f.discrepancies or f.invalid else ExitCode.OK))


def campaign_title(folder: Path) -> str:
    """The campaign's name from the allocation's summary.json, if it is there."""
    try:
        return str(json.loads((folder / "summary.json").read_text(encoding="utf-8"))["campaign_name"])
    except (OSError, ValueError, KeyError, TypeError):
        return "走访慰问"
