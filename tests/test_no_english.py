"""Nothing a clerk reads is in English: not on screen, not in a workbook, not in a file name.

The clerks read no English.  Over a whole season (tests/printing.py: 12 generated villages and the
three sample villages, with a ledger, through approval, payment and the bank's return; the
everyday mistakes; the cron run), these are read for English:

- what every command prints, on stdout and on stderr (machine output, --json, is not run here);
- every command's --help;
- every workbook weiwen writes: sheet names, every text cell (hidden sheets too: their values fill
  the drop-down lists), page headers and footers, cell comments, data-validation messages, chart
  titles and labels;
- the names of the files and folders weiwen writes, and its text files a person opens (the cron
  run's weiwen.log, 最新结果.txt).

The rule: no run of two or more ASCII letters, except this small allowlist:
- the command line itself, as typed: ``weiwen`` followed by a command (``weiwen payment file``),
  and the real option names of the commands (``--ledger``); a command name alone is not allowed;
- file extensions and formats a clerk meets (xlsx, xls, xlsm, csv, json; and yaml, yml, txt, db
  as the extension after a dot), and the product names SQLite, PostgreSQL, Excel and WPS;
- the machine files that stay English: allocation.csv, persons.csv, lines.csv, summary.json, manifest.json,
  decision.arrow;
- the page codes of headers and footers (&P, &N …);
- what a person types but does not read as words: environment variables (WEIWEN_LEDGER), a
  ledger's address (sqlite:///…, postgresql://…), the dotted keys of a rules file
  (campaign.rosters) — a rules file's keys are English by design (docs/rules.md);
- names an office chooses itself, here those of the bundled examples: the rules files' names
  (spring, from rules/spring.yaml), the campaigns' codes (spring-2027) and their standards' codes
  (dibao, army-family: the plan workbook shows them in its 代码 column).
Machine files (CSV, JSON, JSON lines, Arrow) are not read.  The season's folder, where it is
quoted back in a message, is not the program's text.

A failure lists every offending text with where it was found: a to-do list.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import typer.main

from tests.printing import Part, Said, campaign, cron_run, faulty_rosters, on_screen, season_root, twelve_villages
from weiwen.cli import app

ALLOWED = {"weiwen", "xlsx", "xls", "xlsm", "csv", "json", "sqlite", "postgresql", "excel", "wps"}
MACHINE_FILES = ("allocation.csv", "persons.csv", "lines.csv", "summary.json", "manifest.json", "decision.arrow", "weiwen.jsonl")
WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
AFTER_A_DOT = re.compile(r"\.(?:ya?ml|txt|db|key)\b", re.I)  # extensions of the files a clerk names or opens
PAGE_CODES = re.compile(r"&(?:[PNDTAFZGBIUESXYLCRK]|\"[^\"]*\"|[0-9]+|K[0-9A-Fa-f]{6})")
# A key's fingerprint (11CE-3BC2-6BD0-F541) and a digest are hexadecimal digits, not words.
HEX = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{4}(?:-[0-9A-Fa-f]{4}){2,}|[0-9a-f]{16,})(?![0-9A-Za-z])")
ENV = re.compile(r"(?<![A-Za-z0-9_])WEIWEN_[A-Z_]+")
LEDGER_URL = re.compile(r"(?:sqlite|postgresql)(?:\+\w+)?://\S*")


def _typed_names() -> tuple[set[str], re.Pattern[str]]:
    """The bundled examples' own names (file stems, campaign and standard codes) and the rules' dotted keys."""
    import yaml

    from weiwen.rules.schema import Rules

    names: set[str] = set()
    for path in (Path(__file__).resolve().parents[1] / "rules").glob("*.yaml"):
        names.add(path.stem)
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        names.add(str(doc["campaign"]["code"]))
        names.update(str(s["code"]) for s in doc["standards"])
    keys = [f"{section}.{key}" for section, field in Rules.model_fields.items()
            for key in getattr(field.annotation, "model_fields", {})]
    dotted = re.compile(r"(?<![A-Za-z0-9_.])(?:" + "|".join(map(re.escape, sorted(keys, key=len, reverse=True)))
                        + r")(?![A-Za-z0-9_])")
    return names, dotted


TYPED, RULES_KEYS = _typed_names()
CHOSEN = re.compile(r"(?<![A-Za-z0-9_-])(?:rules/|(?:" + "|".join(map(re.escape, sorted(TYPED, key=len, reverse=True)))
                    + r")(?![A-Za-z0-9_-]))")  # and the folder rules/ the examples are in
SHOWN = 3  # texts shown of many with the same words in one place


# --- the vocabulary of the command line -----------------------------------------------------------------

def _commands() -> tuple[list[list[str]], set[str]]:
    """Every command path (["payment", "file"]) and every option name (--ledger) of weiwen."""
    paths: list[list[str]] = []
    options: set[str] = set()

    def walk(command, path: list[str]) -> None:  # type: ignore[no-untyped-def]
        for param in command.params:
            options.update(o for o in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])
                           if o.startswith("-"))
        if path:
            paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths, options | {"--help", "-h", "--version", "-V"}


PATHS, OPTIONS = _commands()
NAMES = sorted({n for p in PATHS for n in p}, key=len, reverse=True)
# ASCII boundaries: a Chinese character next to a word is a boundary (\b and \w count it as a letter)
COMMAND_LINE = re.compile(r"(?<![A-Za-z0-9_])weiwen(?:\s+(?:" + "|".join(map(re.escape, NAMES))
                          + r")(?![A-Za-z0-9_-]))*")
OPTION = re.compile(r"(?<![A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9_-]*")


def english(text: str, *, header_footer: bool = False) -> list[str]:
    """The English words in ``text`` that are not allowed."""
    root = season_root()
    if root is not None:
        text = text.replace(str(root), "…")
    for name in MACHINE_FILES:
        text = text.replace(name, "…")
    text = HEX.sub(" ", text)
    text = LEDGER_URL.sub(" ", text)
    text = ENV.sub(" ", text)
    text = RULES_KEYS.sub(" ", text)
    text = CHOSEN.sub(" ", text)
    if header_footer:
        text = PAGE_CODES.sub(" ", text)
    text = COMMAND_LINE.sub(" ", text)
    text = OPTION.sub(lambda m: " " if m.group(0) in OPTIONS else m.group(0), text)
    text = AFTER_A_DOT.sub(" ", text)
    return [w for w in WORD.findall(text) if w.lower() not in ALLOWED]


@dataclass(frozen=True)
class Found:
    where: str
    text: str
    words: tuple[str, ...]


def _line_findings(where: str, text: str) -> Iterator[Found]:
    for line in text.splitlines():
        words = english(line)
        if words:
            yield Found(where, line.strip(), tuple(words))


def report(found: Iterable[Found], what: str) -> None:
    """Fail with every finding, grouped by where it was found; of many texts with the same words in
    one place (the rows of a table), the first few."""
    grouped: dict[str, dict[frozenset[str], list[str]]] = defaultdict(lambda: defaultdict(list))
    words: Counter[str] = Counter()
    for f in found:
        shown = f.text if len(f.text) <= 160 else f.text[:157] + "…"
        texts = grouped[f.where][frozenset(f.words)]
        if shown not in texts:
            texts.append(shown)
            words.update(f.words)
    if not grouped:
        return
    count = sum(len(t) for g in grouped.values() for t in g.values())
    lines = [f"English in {what}: {count} texts in {len(grouped)} places.",
             "Words: " + ", ".join(f"{w} ×{n}" for w, n in words.most_common()), ""]
    for where in sorted(grouped):
        lines.append(where)
        for same, texts in grouped[where].items():
            lines.extend(f"    {t}" for t in texts[:SHOWN])
            if len(texts) > SHOWN:
                lines.append(f"    … and {len(texts) - SHOWN} more with {', '.join(sorted(same))}")
    pytest.fail("\n".join(lines), pytrace=False)


# --- the season ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def parts() -> list[Part]:
    return [twelve_villages(), on_screen(), faulty_rosters(), campaign(), cron_run()]


def test_what_commands_print_is_chinese(parts: list[Part]) -> None:
    said: list[Said] = [s for part in parts for s in part.said if "--json" not in s.args]
    assert said
    report((f for s in said for stream, text in (("stdout", s.stdout), ("stderr", s.stderr))
            for f in _line_findings(f"{s.command}  [{stream}, exit {s.code}]", text)),
           "what the commands print")


def test_help_is_chinese() -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    found = []
    for path in [[], *PATHS]:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        here = f"weiwen {' '.join(path)} --help".replace("  ", " ")
        names = {p[len(path)] for p in PATHS if len(p) == len(path) + 1 and p[:len(path)] == path}
        for line in result.output.splitlines():
            row = re.match(r"\s*│\s+(\S+)\s", line)  # a group's list of its commands: the name is typed as is
            if row and row.group(1) in names:
                line = line.replace(row.group(1), " ", 1)
            words = english(line)
            if words:
                found.append(Found(here, line.strip(" │"), tuple(words)))
    report(found, "--help")


def _workbook_texts(book: Path) -> Iterator[tuple[str, str, bool]]:
    """(where, text, is a header/footer) of everything a clerk can read in a workbook."""
    wb = openpyxl.load_workbook(book)
    try:
        for ws in wb.worksheets:
            yield f"{ws.title} (sheet name)", ws.title, False
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "s" and isinstance(cell.value, str):
                        yield f"{ws.title}!{cell.coordinate}", cell.value, False
                    if cell.comment is not None:
                        yield f"{ws.title}!{cell.coordinate} (comment)", cell.comment.text, False
            for hf_name in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"):
                hf = getattr(ws, hf_name)
                for part_name in ("left", "center", "right"):
                    text = getattr(getattr(hf, part_name), "text", None)
                    if text:
                        yield f"{ws.title} ({hf_name} {part_name})", text, True
            for dv in ws.data_validations.dataValidation:
                for attr in ("prompt", "promptTitle", "error", "errorTitle"):
                    if getattr(dv, attr):
                        yield f"{ws.title}!{dv.sqref} (validation {attr})", getattr(dv, attr), False
                if dv.formula1 and dv.formula1.startswith('"'):
                    yield f"{ws.title}!{dv.sqref} (drop-down list)", dv.formula1, False
    finally:
        wb.close()
    with zipfile.ZipFile(book) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                for text in re.findall(r"<(?:a:t|c:v)>([^<]*)</(?:a:t|c:v)>", xml):
                    yield f"{Path(name).name} (chart)", text, False


def _books(parts: list[Part]) -> list[Path]:
    """Every workbook weiwen wrote in the season, except the cron run's (the same writers again)."""
    return [b for part in parts if part.folder.name != "定时运行" for b in part.books()]


def test_workbooks_are_chinese(parts: list[Part]) -> None:
    root = season_root()
    assert root is not None
    found = []
    for book in _books(parts):
        name = str(book.relative_to(root))
        for where, text, header_footer in _workbook_texts(book):
            words = english(text, header_footer=header_footer)
            if words:
                found.append(Found(f"{name} › {where.split('!')[0].split(' (')[0]}",
                                   f"{where}: {text}", tuple(words)))
    assert found or _books(parts)
    report(found, "the workbooks")


def test_files_weiwen_writes_are_named_and_written_in_chinese(parts: list[Part]) -> None:
    root = season_root()
    assert root is not None
    found = []
    for part in parts:
        for path in sorted(part.folder.rglob("*")):
            if path in part.written_by_test or any(p in part.written_by_test for p in path.parents):
                continue
            if path.name.startswith("台账") or path.name.startswith("县总工会台账"):
                continue  # the ledger's database: the test named it; SQLite adds -wal and -shm
            rel = str(path.relative_to(part.folder))
            words = english(path.name)
            if words:
                found.append(Found(f"{part.folder.name}: file names", rel, tuple(words)))
            if path.is_file() and path.suffix.lower() in (".txt", ".log", ".md"):
                found.extend(_line_findings(f"{part.folder.name}/{rel} (text file)",
                                            path.read_text(encoding="utf-8", errors="replace")))
    report(found, "the files weiwen writes")


def test_the_allowlist_is_what_it_says() -> None:
    """The rule itself: command lines and options pass, English words do not."""
    assert english("签领表在审批后生成：weiwen approve 核定结果 --org 镇民政办") == []
    assert english("请运行 weiwen payment file 核定结果 --bank 农商银行") == []
    assert english("已写出：核定结果/allocation.csv、慰问明细.xlsx、春节.yaml") == []
    assert english("第 &P 页，共 &N 页", header_footer=True) == []
    assert english("台账：SQLite 文件或 PostgreSQL；Excel 会把身份证号存成数字（4.11721E+17）") == []
    assert english("必须用 allocate --reason 说明原因") == ["allocate"]
    assert english("活动 spring-2027 的第 2 版") == []  # the example's own code, as an office chose it
    assert english("活动 autumn-2027 的第 2 版") == ["autumn"]
    assert english("household-multiple-heads") == ["household", "multiple", "heads"]
    assert english("weiwen --campain x") == ["campain"]
    assert english("密钥指纹：11CE-3BC2-6BD0-F541") == []
    assert english("写在“最新结果.txt”中；台账 台账.db") == []
    assert english("日志 weiwen.log") == ["log"]
