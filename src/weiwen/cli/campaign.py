"""``weiwen publish``, ``weiwen approve``, ``weiwen objection …``, ``weiwen duplicates …``: after the list is made."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, guarded, out_console
from weiwen.cli.ledger import ByOpt, LedgerOpt

Folder = Annotated[Path, typer.Argument(metavar="核定结果文件夹", show_default=False,
                                        help="weiwen allocate --ledger 写出的文件夹（含 manifest.json）。")]

PUBLISH_HELP = """登记公示：把这个文件夹的这一版名单记为已张榜公示的版本。之后重新核定的版本会附一份变更清单，
逐户列出与公示版本相比新增、取消、变更的户和原因。

示例：weiwen publish 核定结果 --ledger 台账.db --by 张三
"""

APPROVE_HELP = """审批并冻结这一版名单：核对文件与生成时一致、是最新版本、没有待认定的异议、异议和查重认定的结果已经反映在这一版中；
然后把每户及每一位成员记入台账，记下审批人和时间，并生成这一版的发放签领表（签领表（第N版）文件夹）。
审批之后名单如有变化，必须用 weiwen allocate --reason 说明原因并重新审批。

退出码：0 已审批；1 有户中的人已由其他单位记账；2 用法错误；3 台账被占用。

示例：weiwen approve 核定结果 --org 镇民政办 --by 李四 --ledger 台账.db
"""


def publish(folder: Folder, ledger: LedgerOpt = None, by: ByOpt = None) -> None:
    from weiwen.app.campaign import publish_folder

    number, campaign, already = publish_folder(folder, ledger, by)
    out_console().print(f"活动 {escape(campaign)} 的第 {number} 版名单" + ("此前已登记为公示版本。" if already else
                                                                     "已登记为公示版本。公示期间收到的异议请用 weiwen objection add 登记。"))


def approve(folder: Folder, org: Annotated[str, typer.Option("--org", metavar="发放单位", help="发放单位，例如 镇民政办。")],
            ledger: LedgerOpt = None, by: ByOpt = None) -> None:
    from weiwen.app.campaign import approve_folder

    done = approve_folder(folder, ledger, org, by)
    c = out_console()
    if done.already:
        c.print(f"第 {done.number} 版此前已经审批，文件与审批时一致。")
    else:
        c.print(f"已审批活动 {escape(done.campaign)} 的第 {done.number} 版：{done.households} 户，合计 "
                f"{done.total_fen / 100:,.2f} 元（其中现金 {done.cash_fen / 100:,.2f} 元）；已记入台账 {done.recorded} 户、"
                f"{done.persons} 人。")
    if done.voided_lines:
        c.print(f"[yellow]以前版本的代发文件中还有 {done.voided_lines} 笔没有回盘，现已作废：那些文件不得再上传银行；"
                "请用 weiwen payment file 从这一版重新生成代发文件。[/]")
    if done.sign_sheets:
        c.print(f"发放签领表：{escape(str(done.sign_sheets[0].parent))}（{len(done.sign_sheets)} 个村(社区)）")
    c.print("下一步：weiwen payment file 生成银行代发文件。")


objection_app = typer.Typer(cls=ChineseHelpGroup, no_args_is_help=True,
                            help="异议登记：公示期间对某户提出的异议，登记、认定（成立/不成立）、查看。成立的户在重新核定时取消，名额不予补缺。")
CampaignOpt = Annotated[str, typer.Option(
    "--campaign", "-c", metavar="活动期次", help="活动期次代码（规则文件 campaign.code），例如 spring-2027。")]


def _parse_date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期“{text}”应写成 2026-12-01 的形式。") from None


@objection_app.command("add", cls=ChineseHelpCommand)
@guarded
def objection_add(
    id_number: Annotated[str, typer.Argument(metavar="身份证号", show_default=False,
                                             help="被提出异议的户中任何一人（通常是户主）的身份证号。")],
    campaign: CampaignOpt,
    reason: Annotated[str, typer.Option("--reason", metavar="异议内容", help="异议内容，例如 家中有小轿车、子女有稳定收入。")],
    raised_by: Annotated[str, typer.Option("--raised-by", metavar="提出人", help="提出人（可写“匿名来电”等）。")] = "匿名",
    raised_on: Annotated[str | None, typer.Option(
        "--date", metavar="日期", help="提出日期，如 2026-12-01（默认今天）。")] = None,
    name: Annotated[str, typer.Option("--name", metavar="户主姓名", help="户主姓名（便于查看，可不写）。")] = "",
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """登记一条异议（待认定）。"""
    from weiwen.ledger import objections
    from weiwen.ledger.store import Ledger

    o = objections.add(Ledger.open(ledger, by), campaign, id_number, reason=reason, raised_by=raised_by,
                       raised_on=_parse_date(raised_on), name=name, operator=by)
    out_console().print(f"已登记异议第 {o.number} 号（{o.id_masked}{(' ' + escape(o.name)) if o.name else ''}），待认定："
                        f"weiwen objection decide {o.number} --upheld 或 --rejected --note 认定依据")


@objection_app.command("decide", cls=ChineseHelpCommand)
@guarded
def objection_decide(
    number: Annotated[int, typer.Argument(metavar="编号", show_default=False, help="异议编号（weiwen objection list 中的编号）。")],
    upheld: Annotated[bool, typer.Option("--upheld/--rejected", help="--upheld 异议成立（取消该户）；--rejected 不成立。")],
    note: Annotated[str, typer.Option("--note", metavar="认定依据", help="认定依据，例如 经入户核实属实。")],
    decided_on: Annotated[str | None, typer.Option("--date", metavar="日期", help="认定日期，如 2026-12-08（默认今天）。")] = None,
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """认定一条异议：成立或不成立（可以改判，台账日志保留改判前后的内容）。"""
    from weiwen.ledger import objections
    from weiwen.ledger.store import Ledger

    o = objections.decide(Ledger.open(ledger, by), number, upheld=upheld, note=note, decided_on=_parse_date(decided_on),
                          operator=by)
    tail = "重新运行 weiwen allocate --ledger 后，这一户将被取消（名额不予补缺），并列入变更清单。" if upheld else "该户保留。"
    out_console().print(f"异议第 {o.number} 号认定为{o.status_zh}。{tail}")


@objection_app.command("list", cls=ChineseHelpCommand)
@guarded
def objection_list(campaign: Annotated[str | None, typer.Option(
                       "--campaign", "-c", metavar="活动期次", help="只列这个活动期次。")] = None,
                   ledger: LedgerOpt = None) -> None:
    """列出登记的异议及其认定情况。"""
    from weiwen.ledger import objections
    from weiwen.ledger.store import Ledger

    rows = objections.listing(Ledger.open(ledger), campaign)
    table = Table(title=f"异议登记：{len(rows)} 条", title_justify="left")
    for col in ("编号", "活动", "身份证号", "户主", "提出日期", "提出人", "异议内容", "登记人", "认定", "认定人", "认定日期", "认定依据"):
        if col == "活动":  # a campaign's code is typed as it is: never broken over two lines
            table.add_column(col, no_wrap=True, min_width=max((len(o.campaign) for o in rows), default=4))
        else:
            table.add_column(col, overflow="fold")
    for o in rows:
        table.add_row(str(o.number), escape(o.campaign), o.id_masked, escape(o.name), o.raised_on, escape(o.raised_by),
                      escape(o.reason), escape(o.recorded_by), o.status_zh, escape(o.decided_by), o.decided_on,
                      escape(o.note))
    out_console().print(table)


duplicates_app = typer.Typer(cls=ChineseHelpGroup, no_args_is_help=True,
                             help="查重认定：核实 weiwen check-duplicates 列出的疑似重复后，记下“同一人”或“不同的人”，以后的查重和核定按认定处理；可撤销。")


@duplicates_app.command("decide", cls=ChineseHelpCommand)
@guarded
def verdict_decide(
    first: Annotated[str, typer.Argument(metavar="身份证号1", show_default=False, help="第一个人的身份证号。")],
    second: Annotated[str, typer.Argument(metavar="身份证号2", show_default=False, help="第二个人的身份证号。")],
    same: Annotated[bool, typer.Option("--same/--different", help="--same 是同一人（只核定先列出的一户）；--different 是不同的人（不再列为疑似重复）。")],
    reason: Annotated[str, typer.Option("--reason", metavar="认定依据", help="认定依据，例如 经派出所户籍核实为两人。")],
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """记下对两个身份证号的查重认定（同一对已有的认定会被取代，日志保留）。"""
    from weiwen.ledger import verdicts
    from weiwen.ledger.store import Ledger

    v = verdicts.decide(Ledger.open(ledger, by), first, second, same=same, reason=reason, operator=by)
    out_console().print(f"已记下查重认定第 {v.number} 号：{v.masked[0]} 与 {v.masked[1]} 是{v.verdict_zh}。")


@duplicates_app.command("undo", cls=ChineseHelpCommand)
@guarded
def verdict_undo(
    number: Annotated[int, typer.Argument(metavar="编号", show_default=False, help="认定编号（weiwen duplicates list 中的编号）。")],
    reason: Annotated[str, typer.Option("--reason", metavar="原因", help="撤销原因。")],
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """撤销一条查重认定：这一对人重新列为疑似重复。"""
    from weiwen.ledger import verdicts
    from weiwen.ledger.store import Ledger

    v = verdicts.undo(Ledger.open(ledger, by), number, reason=reason, operator=by)
    out_console().print(f"已撤销查重认定第 {v.number} 号（{v.masked[0]} 与 {v.masked[1]}）。")


@duplicates_app.command("list", cls=ChineseHelpCommand)
@guarded
def verdict_list(ledger: LedgerOpt = None) -> None:
    """列出所有查重认定（含已撤销的）。"""
    from weiwen.ledger import verdicts
    from weiwen.ledger.store import Ledger

    from weiwen.core.text import local_time

    rows = verdicts.listing(Ledger.open(ledger))
    table = Table(title=f"查重认定：{len(rows)} 条", title_justify="left")
    for col in ("编号", "身份证号1", "身份证号2", "认定", "依据", "认定人", "时间", "状态"):
        table.add_column(col, overflow="fold")
    for v in rows:
        table.add_row(str(v.number), v.masked[0], v.masked[1], v.verdict_zh, escape(v.reason), escape(v.decided_by),
                      local_time(v.decided_at), "有效" if v.active else escape(v.undone))
    out_console().print(table)
