"""``weiwen samples``: synthetic rosters for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, err_console, guarded, out_console

app = typer.Typer(cls=ChineseHelpGroup, help="示例数据：生成虚构的花名册（不含任何真实个人信息）。", no_args_is_help=True)


@app.command("generate", cls=ChineseHelpCommand)
@guarded
def generate(
    output: Annotated[Path, typer.Option("--output", "-o", metavar="文件夹", help="保存到哪个文件夹。")],
    households: Annotated[int, typer.Option("--households", metavar="户数", help="一共多少户。", min=1)] = 100,
    villages: Annotated[int, typer.Option(
        "--villages", metavar="村数", help="分成多少个村（社区），每村一个文件。", min=1)] = 3,
    seed: Annotated[int, typer.Option("--seed", metavar="数字", help="随机种子：种子相同，生成的数据完全相同。")] = 1,
    error_rate: Annotated[float, typer.Option(
        "--error-rate", metavar="比例", help="按这个比例在人员中埋入常见错误（0 到 1），用于演示和测试。", min=0, max=1)
    ] = 0.0,
    single_file: Annotated[bool, typer.Option("--single-file", help="所有村写进一个文件的一张表（用于性能测试）。")] = False,
) -> None:
    """生成虚构的花名册：每村一个工作簿，带标题行、合计行和签字行，表头写法各村不同。"""
    from weiwen.demo import generate as generate_villages
    from weiwen.sheets.demo_book import write_planted, write_single, write_village

    data = generate_villages(households, min(villages, households), seed, error_rate)
    output.mkdir(parents=True, exist_ok=True)
    status = err_console()
    if single_file:
        target = output / "花名册.xlsx"
        with status.status(f"正在写 {target} ……"):
            write_single(target, data)
        written = 1
    else:
        width = len(str(len(data)))
        with status.status("正在写花名册……") as st:
            for i, v in enumerate(data):
                st.update(f"正在写 {v.name}（{i + 1}/{len(data)}）……")
                write_village(output / f"{i + 1:0{width}d}-{v.name}.xlsx", v, variant=i)
        written = len(data)
    if error_rate > 0:
        write_planted(output / "埋入的错误.json", data)
    persons = sum(v.persons for v in data)
    out_console().print(f"已生成 {written} 个文件：{len(data)} 个村（社区），{households} 户，{persons} 人 → {output}")
