"""``weiwen payment``: bank batch files of an approved version, and the bank's return files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from weiwen.cli.campaign import Folder
from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, err_console, guarded, out_console
from weiwen.cli.ledger import ByOpt, LedgerOpt
from weiwen.core.errors import ExitCode

app = typer.Typer(cls=ChineseHelpGroup, no_args_is_help=True,
                  help="银行代发：从审批过的名单生成代发文件（每一格都是文本，附控制数），导入银行回盘文件并对账、生成补发批次。")

BankOpt = Annotated[str, typer.Option(
    "--bank", metavar="银行格式", help="银行代发格式：自带的 农商银行 / 邮储银行，或自己写的 .yaml 格式文件（写法见使用说明中的“银行代发”一章）。")]


@app.command("banks", cls=ChineseHelpCommand)
@guarded
def banks() -> None:
    """列出内置的银行代发模板及其列。"""
    from weiwen.model.bank import shipped_layouts

    table = Table(title="内置银行代发模板", title_justify="left")
    for col in ("名称", "工作表", "代发文件的列（按顺序）", "回盘文件的状态列：成功 / 失败"):
        table.add_column(col, overflow="fold")
    for name, layout in shipped_layouts().items():
        table.add_row(name, layout.sheet, "、".join(c.header for c in layout.columns),
                      f"{layout.returns.status}：{'/'.join(layout.returns.success)} / {'/'.join(layout.returns.failure)}")
    out_console().print(table)


@app.command("file", cls=ChineseHelpCommand)
@guarded
def file(folder: Folder, bank: BankOpt, ledger: LedgerOpt = None, by: ByOpt = None) -> None:
    """生成下一批代发文件（核定结果/代发文件/第N批-银行.xlsx）：只从最新审批、文件未被改动的版本生成；
    已到账或已在之前批次中等待银行处理的户不再列入（不会重复发放）。
    账号、身份证号、金额都是文本格式，表格软件不会改写；另附“控制数”（笔数、合计金额）和对账清单。
    没有银行卡号的户不在代发文件中，另行列出。"""
    from weiwen.app.payment import make_batch
    from weiwen.model.bank import load_layout

    batch = make_batch(folder, ledger, load_layout(bank), by)
    c = out_console()
    if batch.already:
        c.print(f"{batch.already} 户已到账或已在之前的批次中等待银行处理，不再列入。")
    if batch.book is None:
        c.print("没有需要代发的户。")
    else:
        c.print(f"已生成第 {batch.number} 批代发文件：{escape(str(batch.book))}\n控制数：{batch.lines} 笔，合计 {batch.total:,.2f} 元。"
                "上传银行前请核对控制数；不要用表格软件另存（会把长数字改成科学计数法）。")
    if batch.without_account:
        err_console().print(f"[yellow]{len(batch.without_account)} 户有现金但没有银行卡号，不在代发文件中（请现金发放或补录卡号后重新核定）：[/]")
        for line in batch.without_account:
            err_console().print(f"  - {escape(line)}")


@app.command("import", cls=ChineseHelpCommand)
@guarded
def import_(
    folder: Folder,
    return_file: Annotated[Path, typer.Argument(metavar="回盘文件", show_default=False, help="银行返回的代发结果文件（.xlsx/.xls/.csv）。")],
    bank: BankOpt,
    batch: Annotated[int | None, typer.Option("--batch", metavar="批次号", help="回盘对应的批次号（默认最近一批）。")] = None,
    ledger: LedgerOpt = None,
    by: ByOpt = None,
) -> None:
    """导入银行回盘文件：逐笔核对（按账号，精确到分），在台账中记下成功和失败，写出回盘核对表；
    失败的笔数另生成补发批次文件。回盘文件有任何问题时整个文件不记入台账。
    退出码：0 全部成功；1 有失败、金额不符、未回盘或回盘文件有问题；2 用法错误。"""
    from weiwen.app.payment import ReturnProblems, import_return
    from weiwen.cli import render
    from weiwen.model.bank import load_layout

    try:
        done = import_return(folder, ledger, load_layout(bank), return_file, batch, by)
    except ReturnProblems as exc:
        render.problems(err_console(), exc.problems)
        err_console().print(f"[bold red]错误：[/]{escape(exc.message)}")
        raise typer.Exit(int(ExitCode.PROBLEMS)) from None
    rec = done.reconciliation
    c = out_console()
    c.print(f"第 {done.batch} 批回盘：成功 {rec.paid_count} 笔 {rec.paid_sum:,.2f} 元；失败 {rec.failed_count} 笔 "
            f"{rec.failed_sum:,.2f} 元；金额不符 {len(rec.amount_mismatch)} 笔；未回盘 {len(rec.missing)} 笔；"
            f"不在批次中 {len(rec.unexpected)} 笔。核对表：{escape(str(done.report))}")
    if done.repay is not None:
        c.print(f"失败的 {done.repay.lines} 笔已生成第 {done.repay.number} 批（补发）：{escape(str(done.repay.book))}"
                "——请先核实并更正账号（在花名册中改正后重新核定），或与银行确认原因后再上传。")
    c.print(f"对账（审批版本的现金合计 {done.cash_total:,.2f} 元）= 已到账 {done.paid_total:,.2f} + 待银行处理 "
            f"{done.pending:,.2f} + 失败未补发 {done.failed_open:,.2f} + 尚未代发 {done.unsent:,.2f} + 无卡号 "
            f"{done.without_account:,.2f} 元" + ("，相符。" if done.balanced else "，[red]不相符，请检查！[/]"))
    if done.paid_differs:
        err_console().print(f"[red]{len(done.paid_differs)} 户已到账的金额与审批的这一版不同（名单变更前已发放），请补发差额或追回：[/]")
        for line in done.paid_differs:
            err_console().print(f"  - {escape(line)}")
    if done.paid_outside:
        err_console().print(f"[red]{len(done.paid_outside)} 户已到账但不在审批的名单中（名单变更后被取消的户），请追回或说明：[/]")
        for line in done.paid_outside:
            err_console().print(f"  - {escape(line)}")
    ok = rec.clean and done.balanced and not done.paid_outside and not done.paid_differs
    raise typer.Exit(int(ExitCode.OK if ok else ExitCode.PROBLEMS))
