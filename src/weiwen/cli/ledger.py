"""``weiwen ledger``: the disbursement ledger — init, record, list, export, void, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, err_console, guarded, out_console, output_file
from weiwen.core.errors import ExitCode
from weiwen.ledger.settings import DEFAULT_URL, KEY_ENV, URL_ENV, resolve_url

app = typer.Typer(cls=ChineseHelpGroup, help="发放台账：记录已发放的户，防止同一人在同一活动中被重复慰问。", no_args_is_help=True)

def _ledger():  # type: ignore[no-untyped-def]
    """The ledger class, loaded when a ledger command runs (not at every start of weiwen)."""
    from weiwen.ledger.store import Ledger

    return Ledger


ByOpt = Annotated[str | None, typer.Option(
    "--by", metavar="姓名", help="操作人姓名，记入台账日志；不写时用环境变量 WEIWEN_OPERATOR，再不然用登录名。")]
LedgerOpt = Annotated[str | None, typer.Option(
    "--ledger", metavar="台账地址", help=f"台账地址：SQLite 文件（默认 {DEFAULT_URL}）或 postgresql://用户@主机/库；也可用环境变量 {URL_ENV}。")]


@app.command("init", cls=ChineseHelpCommand)
@guarded
def init(ledger: LedgerOpt = None, by: ByOpt = None) -> None:
    """新建台账和它的密钥（SQLite 时密钥文件在台账旁边，权限 0600；PostgreSQL 时由环境变量提供）。"""
    from weiwen.ledger.store import key_path

    made = _ledger().create(ledger, by)
    key_file = key_path(resolve_url(ledger))
    where = f"密钥文件 {key_file}" if key_file is not None else f"环境变量 {KEY_ENV}"
    out_console().print(f"已建立台账：{escape(resolve_url(ledger))}。台账中不保存完整身份证号，只保存加密散列；"
                        f"请妥善保管密钥（{escape(where)}），丢失后无法再与台账比对。\n"
                        f"密钥指纹：{made.fingerprint}（与其他单位交换名单时核对，指纹相同才是同一密钥）。")


@app.command("record", cls=ChineseHelpCommand)
@guarded
def record(
    file: Annotated[Path, typer.Argument(metavar="allocation.csv", show_default=False,
                                         help="weiwen allocate 写出的 allocation.csv。")],
    org: Annotated[str, typer.Option("--org", metavar="发放单位", help="发放单位，例如 镇民政办。")],
    campaign: Annotated[str, typer.Option("--campaign", metavar="活动期次", help="活动期次代码，例如 spring-2027。")],
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """把一次核定结果记入台账（一个事务：要么全部记入，要么都不记）：每户及其每一位成员（读取同一文件夹中的 persons.csv）；
    慰问单位或职工事件的核定结果记入每个单位、每件事（读取同一文件夹中的 lines.csv）。
    同一文件重复记账不会新增记录；户中任何一人在同一活动中已被记账（无论当时是户主还是成员）的，列为冲突，不再记入；
    同一单位、同一人同一天的同一事由已记账的，也不再记入。
    --campaign 与结果的 summary.json 中的活动代码不一致时拒绝（否则以后认不出已经发过）。
    退出码：0 全部记入；1 有冲突；2 文件不对或活动代码与结果不符；3 台账被占用。"""
    from weiwen.app.lines import record_allocation
    from weiwen.ledger.lines import LinesRecorded

    result = record_allocation(file, org, campaign, ledger, by)
    console = out_console()
    if result.already_recorded:
        console.print("这个文件已经记过账了，本次没有新增记录。")
        raise typer.Exit(int(ExitCode.OK))
    if isinstance(result, LinesRecorded):
        console.print(f"已记入 {result.new} 条。")
        if result.repeated:
            err_console().print(f"[yellow]{len(result.repeated)} 条以前已经记入台账，本次未再记入：[/]"
                                + "；".join(escape(x) for x in result.repeated[:20]))
            raise typer.Exit(int(ExitCode.PROBLEMS))
        raise typer.Exit(int(ExitCode.OK))
    console.print(f"已记入 {result.new} 户、{result.persons} 人。")
    if not result.members_known:
        err_console().print("[yellow]注意：文件旁没有 persons.csv（旧版 weiwen 写出的结果），只记入了户主；"
                            "家庭成员以后作为户主再次申报时台账认不出来。请用新版 weiwen allocate 重新生成后记账。[/]")
    if result.conflicts:
        table = Table(title=f"冲突：{len(result.conflicts)} 户已由其他记录登记，本次未记入", title_justify="left")
        for col in ("户主", "身份证号", "村(社区)", "已登记单位", "已登记的人当时的身份"):
            table.add_column(col, overflow="fold")
        for c in result.conflicts:
            table.add_row(escape(c.name), c.id_masked, escape(c.village), escape(c.held_by), c.role)
        console.print(table)
        raise typer.Exit(int(ExitCode.PROBLEMS))


@app.command("list", cls=ChineseHelpCommand)
@guarded
def list_(
    campaign: Annotated[str | None, typer.Option("--campaign", metavar="活动期次", help="只列这个活动期次。")] = None,
    ledger: LedgerOpt = None,
) -> None:
    """列出台账记录（含已作废的，注明原因）。"""
    from weiwen.core.text import local_time

    rows = _ledger().open(ledger).rows(campaign)
    table = Table(title=f"台账：{len(rows)} 条", title_justify="left")
    for col in ("编号", "活动", "单位", "村(社区)", "姓名", "身份证号", "金额（元）", "状态", "记账时间"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = "有效" if r["status"] == "active" else f"作废：{r['void_reason']}"
        table.add_row(str(r["id"]), escape(str(r["campaign"])), escape(str(r["org"])), escape(str(r["village"])),
                      escape(str(r["name"])), str(r["id_masked"]), f"{int(r['amount_fen']) / 100:.2f}",
                      escape(status), local_time(str(r["recorded_at"])))
    out_console().print(table)


@app.command("export", cls=ChineseHelpCommand)
@guarded
def export(
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="文件", help="导出到这个 .csv 文件（不写扩展名时自动加上 .csv）。")],
    hashed: Annotated[bool, typer.Option(
        "--hashed/--full", show_default=False,
        help="--hashed（默认）只导出加密散列，供其他部门比对而看不到任何人的身份证号；"
             "--full 导出姓名和打码的身份证号，供本单位存档。")] = True,
    campaign: Annotated[str | None, typer.Option("--campaign", metavar="活动期次", help="只导出这个活动期次。")] = None,
    ledger: LedgerOpt = None,
) -> None:
    """导出台账中有效记录的每一位受助人员。默认（--hashed）只含散列、活动、村、该户金额和密钥指纹，不含姓名和身份证号；
    --full 含姓名和打码的身份证号。对方用不同密钥时，比对会报错并写明双方的密钥指纹，而不会默默地“没有发现重复”。"""
    from weiwen.ledger.exchange import write_export

    target = output_file(output, ".csv", "台账导出.csv")
    opened = _ledger().open(ledger)
    rows = opened.person_rows(campaign)
    write_export(target, rows, hashed=hashed, fingerprint=opened.fingerprint)
    out_console().print(f"已导出 {len(rows)} 人到 {escape(str(target))}（密钥指纹 {opened.fingerprint}）")


@app.command("void", cls=ChineseHelpCommand)
@guarded
def void(
    id_number: Annotated[str, typer.Argument(metavar="身份证号", show_default=False,
                                             help="要作废记录的人的身份证号。")],
    campaign: Annotated[str, typer.Option("--campaign", metavar="活动期次", help="活动期次代码。")],
    reason: Annotated[str, typer.Option("--reason", metavar="原因", help="作废原因，例如 举报属实取消。")],
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """作废这个人（户主或成员）所在户在该活动中的记录（注明原因和操作人）；记录不会被删除，台账中保留历史。"""
    n = _ledger().open(ledger, by).void(id_number, campaign, reason, by)
    if n == 0:
        err_console().print("台账中没有这个人在该活动中的有效记录。")
        raise typer.Exit(int(ExitCode.PROBLEMS))
    out_console().print(f"已作废 {n} 条记录，原因：{escape(reason)}。")


@app.command("verify", cls=ChineseHelpCommand)
@guarded
def verify(ledger: LedgerOpt = None) -> None:
    """核验台账日志：每一次写入（记账、作废、查重认定、异议、审批、发放结果）都按顺序记在日志中并首尾相扣；
    任何一条被改动或删除都会被查出。退出码：0 完好；1 发现被改动或删除。"""
    opened = _ledger().open(ledger)
    n, broken = opened.verify()
    console = out_console()
    if not broken:
        console.print(f"台账日志完好：共 {n} 条记录，首尾相扣，没有被改动或删除。密钥指纹 {opened.fingerprint}。")
        return
    err_console().print(f"[red]台账日志有 {len(broken)} 处问题（共 {n} 条记录）：[/]")
    for b in broken:
        err_console().print(f"  - {escape(b.why)}")
    err_console().print("请停止使用这个台账，保留数据库文件，向上级报告；可用备份比对被改动的内容。")
    raise typer.Exit(int(ExitCode.PROBLEMS))
