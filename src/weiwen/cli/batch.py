"""``weiwen run`` (unattended, for cron) and ``weiwen sample`` (the audit sample)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from weiwen.core import jsonout
from weiwen.app.run import run_campaign
from weiwen.cli.common import JsonOpt, out_console
from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.sheets.audit_book import write_sample
from weiwen.rules import campaign_vocabulary, find_campaign, load_rules
from weiwen.audit import draw, findings, read_allocation, read_filled

RUN_HELP = """无人值守运行（供 cron / systemd 定时调用）：按规则文件的 campaign.rosters 和 run 设置，
依次校验、查重、核定、预算，结果写到输出文件夹下以时间命名的子文件夹（如 2027-01-10T0200/），附 manifest.json；
成功后才把 latest 指向它。同一活动同时只能运行一个（另一个以退出码 3 退出）；中途被终止不会留下半成品，也不会改动以前的结果。

CAMPAIGN 是活动名（rules/活动名.yaml）或规则文件路径。退出码：0 正常；1 数据有错误或有重复；2 配置错误；3 另一任务正在运行；4 内部错误。
"""

SAMPLE_HELP = """抽查：weiwen sample 核定结果文件夹 --rate 0.1 --seed 2027 按村分层随机抽取（每村至少 1 户），
生成带联系电话和核实结果栏的“抽查名单”；种子相同，抽到的户相同。
核查人员填好后：weiwen sample import 抽查名单.xlsx，按村汇总核实结果，列出未收到、金额不符的户。
"""


def run(
    campaign: Annotated[str, typer.Argument(metavar="活动", help="活动名或规则文件路径。", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", help="输出文件夹（默认用规则文件 run.output）。")] = None,
    if_changed: Annotated[bool, typer.Option("--if-changed", help="花名册和规则都没变时跳过。")] = False,
    as_json: JsonOpt = False,
) -> None:
    path = Path(campaign)
    loaded = load_rules(path if path.suffix in (".yaml", ".yml") and path.is_file() else find_campaign(campaign))
    result = run_campaign(loaded, campaign_vocabulary(loaded), out, if_changed)
    doc = {"status": result.status, "exit_status": int(result.exit_code),
           "folder": str(result.folder) if result.folder else None, "counts": result.counts}
    if as_json:
        typer.echo(jsonout.dumps(doc))
    elif result.status == "skipped":
        out_console().print("花名册和规则都没有变化，已跳过。")
    else:
        out_console().print(f"运行完成：{escape(str(result.folder))}，" +
                            "，".join(f"{k} {v}" for k, v in result.counts.items()))
    raise typer.Exit(int(result.exit_code))


def sample(
    target: Annotated[list[str], typer.Argument(metavar="核定结果", show_default=False,
                                                help="核定结果文件夹；或 import 加填好的抽查名单。")],
    rate: Annotated[float, typer.Option("--rate", help="每村抽取的比例。")] = 0.1,
    per: Annotated[str, typer.Option("--per", help="分层方式（目前只支持 village：按村）。")] = "village",
    seed: Annotated[int, typer.Option("--seed", help="随机种子，写在表上；同一种子抽到同样的户。")] = 1,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="抽查名单保存到哪个文件。")] = None,
    as_json: JsonOpt = False,
) -> None:
    if target[0] == "import":
        if len(target) != 2:
            raise WeiwenError("用法：weiwen sample import 抽查名单.xlsx")
        _import(Path(target[1]), as_json)
        return
    if len(target) != 1:
        raise WeiwenError("用法：weiwen sample 核定结果文件夹 --rate 0.1 --seed 2027")
    if per != "village":
        raise WeiwenError("--per 目前只支持 village（按村分层）。")
    folder = Path(target[0])
    households = read_allocation(folder)
    chosen = draw(households, rate, seed)
    method = (f"抽样方法：按村(社区)分层，每村随机抽取 {rate:.0%}（向上取整，至少 1 户），随机种子 {seed}；"
              f"共 {len({h.village for h in households})} 个村 {len(households)} 户，抽取 {len(chosen)} 户。")
    target_file = output or (folder / "抽查名单.xlsx" if folder.is_dir() else Path("抽查名单.xlsx"))
    write_sample(target_file, chosen, campaign_title(folder), method)
    if as_json:
        typer.echo(json.dumps({"households": len(households), "sampled": len(chosen), "seed": seed,
                               "output": str(target_file)}, ensure_ascii=False))
    else:
        out_console().print(f"{method}\n已写出：{escape(str(target_file))}")


def campaign_title(folder: Path) -> str:
    """The campaign's name from the allocation's summary.json, if it is there."""
    try:
        return str(json.loads((folder / "summary.json").read_text(encoding="utf-8"))["campaign_name"])
    except (OSError, ValueError, KeyError, TypeError):
        return "走访慰问"


def _import(path: Path, as_json: bool) -> None:
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
