"""What weiwen writes over a season, and those workbooks printed as a clerk prints them.

The season (``twelve_villages``, ``on_screen``, ``faulty_rosters``, ``campaign``, ``cron_run``): weiwen's commands
run in this process (Typer's CliRunner, from a folder of their own, with relative paths as a clerk
types them), on a generated 12-village roster set and on samples/rosters; every command line with
its exit code, stdout and stderr is kept (``Said``) and every file stays on disk.  Each part is
built once per test session and shared by the test modules that use it (tests/test_print.py,
tests/test_no_english.py).

Printing (``render``): LibreOffice stands in for Excel.  Every workbook to print is copied with the
sheets not to be printed hidden (one attribute of xl/workbook.xml changed, every other byte as
written), and all of them go to PDF in ONE ``soffice --headless --convert-to pdf`` run (each start
costs seconds) with a private profile, so that runs at the same time do not collide.  LibreOffice
sets a bookmark at each sheet's first page; that is how a PDF's pages are told apart by sheet.
PDFium (pypdfium2) then reads each page: its size, its text (with where each character stands),
and the effective size of every character: the font size times the scale of the text and page
matrices, i.e. what a ruler on the paper measures after any "fit to page width" shrinking (the
same number as pdfplumber's char["size"], read some twenty times faster).  LibreOffice numbers the
pages of a workbook printed whole across its sheets, so the page numbers in a footer here are not
those of one sheet printed alone.

The tests fail, never skip, when LibreOffice, PDFium or the fonts are missing: CI installs them
(.ci/run), and a print check that quietly does not run is worse than none.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import ctypes
import dataclasses
import functools
import html
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ROSTERS = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
SHIPPED_RULES = ROOT / "rules" / "spring.yaml"
UNIT_LIST = ROOT / "samples" / "一线单位" / "慰问单位名单.xlsx"
EVENT_ROSTER = ROOT / "samples" / "工会慰问" / "职工慰问登记表.xlsx"

A4 = (595.28, 841.89)  # points
PAPER_SLACK = 2.0  # points either way
WHITESPACE = re.compile(r"\s+")
# An ID number as the sheets show it: the full 18 characters, or masked with * (410527********847X).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z*])[0-9]{6}[0-9*]{8}[0-9*]{3}[0-9Xx*](?![0-9A-Za-z*])")
INSTALL = ("apt-get install libreoffice-calc poppler-utils fonts-crosextra-carlito fonts-noto-cjk; "
           "pip install -e '.[test]'")
SOFFICE_TIMEOUT = 600  # seconds, for the one run that prints everything


def compact(text: str) -> str:
    """Text without any whitespace: a header wrapped onto two lines in its cell still matches."""
    return WHITESPACE.sub("", text)


# --- the season: weiwen's commands as a clerk runs them ---------------------------------------------------

@dataclass
class Said:
    """One command line, run once: what it printed and how it exited."""
    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0
    expected: tuple[int, ...] = (0,)  # the exit codes this command line should give

    @property
    def as_expected(self) -> bool:
        text = self.stdout + self.stderr
        return self.code in self.expected and "Traceback" not in text and "程序内部错误" not in text

    @property
    def command(self) -> str:
        return "weiwen " + " ".join(self.args)


@dataclass
class Part:
    """One part of the season: its folder (the working folder of its commands) and what they said."""
    folder: Path
    said: list[Said] = field(default_factory=list)
    written_by_test: set[Path] = field(default_factory=set)  # inputs the test made, not weiwen's output

    def run(self, *args: object, expect: tuple[int, ...] = (0,), env: Mapping[str, str | None] | None = None) -> Said:
        from typer.testing import CliRunner

        from weiwen.cli import app

        argv = [str(a) for a in args]
        environment = {"COLUMNS": "120", "WEIWEN_OPERATOR": "张三", "WEIWEN_LEDGER_KEY": None,
                       "WEIWEN_LEDGER": None, "NO_COLOR": "1", **(env or {})}
        started = time.perf_counter()
        with contextlib.chdir(self.folder):
            result = CliRunner().invoke(app, argv, env=environment)
        said = Said(argv, result.exit_code, result.stdout, result.stderr, time.perf_counter() - started, expect)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            said.stderr += f"\n[test harness: the command raised {result.exception!r}]"
        self.said.append(said)
        return said

    def books(self, under: str = ".") -> list[Path]:
        """Every workbook weiwen wrote under ``under`` (relative to the folder), sorted."""
        return sorted(p for p in (self.folder / under).rglob("*.xlsx")
                      if p not in self.written_by_test and not p.name.startswith((".", "~$")))


_FOLDERS: list[Path] = []


def _folder(name: str) -> Path:
    """A fresh folder for a part of the season, removed when the test run ends."""
    if not _FOLDERS:
        base = Path(tempfile.mkdtemp(prefix="weiwen-season-"))
        _FOLDERS.append(base)
        atexit.register(shutil.rmtree, base, True)
    folder = _FOLDERS[0] / name
    folder.mkdir()
    return folder


def season_root() -> Path | None:
    """The folder all parts are under (its path is not the program's text: messages quoting it are
    read with it replaced)."""
    return _FOLDERS[0] if _FOLDERS else None


def _rules(folder: Path) -> str:
    """The shipped spring rules, copied under a Chinese name (so that a path echoed back is not
    counted as the program's English); returns the path relative to ``folder``."""
    (folder / "规则").mkdir(exist_ok=True)
    shutil.copy(SHIPPED_RULES, folder / "规则" / "春节.yaml")
    return "规则/春节.yaml"


def allocation_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "allocation.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def villages_of(folder: Path) -> list[str]:
    """The villages of an allocate output folder, from its allocation.csv."""
    return sorted({r["村(社区)"] for r in allocation_rows(folder)})


@functools.cache
def twelve_villages() -> Part:
    """600 households in 12 villages (weiwen samples generate), allocated without a ledger and
    budgeted; the blank templates, the plan workbooks (blank and the township plan) and the callback
    sample.  Writes 花名册/, 核定结果/, 预算/, 花名册模板.xlsx, 花名册模板（活动）.xlsx, 慰问方案（空白）.xlsx,
    慰问方案（乡镇）.xlsx, 抽查名单.xlsx."""
    part = Part(_folder("十二个村"))
    rules = _rules(part.folder)
    part.written_by_test.add(part.folder / rules)
    part.run("samples", "generate", "-o", "花名册", "--households", 600, "--villages", 12)
    rosters = sorted(p.relative_to(part.folder) for p in (part.folder / "花名册").glob("*.xlsx"))
    part.run("allocate", *rosters, "--rules", rules, "-o", "核定结果")
    part.run("budget", *rosters, "--rules", rules, "-o", "预算")
    part.run("template", "-o", "花名册模板.xlsx")
    part.run("template", "--rules", rules, "-o", "花名册模板（活动）.xlsx")
    part.run("rules", "template", "-o", "慰问方案（空白）.xlsx")
    part.run("rules", "template", "--campaign", "township", "-o", "慰问方案（乡镇）.xlsx")
    part.run("sample", "核定结果", "--rate", "0.1", "-o", "抽查名单.xlsx")
    return part


@functools.cache
def on_screen() -> Part:
    """The commands on the 12 villages whose output is only what they print: validate, explain,
    rules check, sample import."""
    twelve = twelve_villages().folder
    part = Part(_folder("屏幕"))
    rosters = sorted(Path("..", twelve.name, "花名册", p.name) for p in (twelve / "花名册").glob("*.xlsx"))
    rules = Path("..", twelve.name, "规则", "春节.yaml")
    part.run("validate", *rosters)
    if (twelve / "核定结果" / "allocation.csv").is_file():
        first = allocation_rows(twelve / "核定结果")[0]
        own = [r for r in rosters if r.stem.endswith(first["村(社区)"])] or rosters
        part.run("explain", f"{first['村(社区)']}/{first['户号']}", *own, "--rules", rules)
    part.run("rules", "check", rules, *rosters[:2])
    if (twelve / "抽查名单.xlsx").is_file():
        part.run("sample", "import", Path("..", twelve.name, "抽查名单.xlsx"), expect=(0, 1, 2))
    return part


@functools.cache
def faulty_rosters() -> Part:
    """Rosters with planted errors (validate --report: annotated copies with 错误清单) and a roster
    reported twice (check-duplicates -o 重复核查.xlsx)."""
    part = Part(_folder("有错的花名册"))
    part.run("samples", "generate", "-o", "花名册", "--households", 60, "--villages", 3, "--error-rate", "0.1",
             "--seed", 2)
    rosters = sorted(p.relative_to(part.folder) for p in (part.folder / "花名册").glob("*.xlsx"))
    part.run("validate", *rosters, "--report", "校验结果", expect=(1,))
    twice = part.folder / "重报" / "4-王楼村（重报）.xlsx"
    twice.parent.mkdir()
    shutil.copy(SAMPLE_ROSTERS[0], twice)
    for p in SAMPLE_ROSTERS:
        shutil.copy(p, twice.parent / p.name)
        part.written_by_test.add(twice.parent / p.name)
    part.written_by_test.add(twice)
    part.run("check-duplicates", *sorted(p.relative_to(part.folder) for p in twice.parent.glob("*.xlsx")),
             "-o", "重复核查.xlsx", expect=(1,))
    part.run("validate", "不存在的花名册.xlsx", expect=(2,))  # a clerk's everyday mistakes, and what weiwen says
    (part.folder / "说明.txt").write_text("不是花名册", encoding="utf-8")
    part.written_by_test.add(part.folder / "说明.txt")
    part.run("validate", "说明.txt", expect=(1, 2))
    part.run("allocate", *rosters[:1], "-o", "核定结果", expect=(2,))  # no rules named
    return part


RETURN_HEAD = ["账号", "户名", "金额", "处理结果", "失败原因"]  # the 农商银行 layout's return columns
BANK = "农商银行"


def _bank_return(batch: Path, target: Path) -> None:
    """The bank's answer to a batch workbook: every line paid but the 2nd and the last."""
    wb = openpyxl.load_workbook(batch, read_only=True)
    rows = list(wb["代发明细"].iter_rows(values_only=True))
    wb.close()
    head, lines = list(rows[0]), rows[1:]
    out = openpyxl.Workbook()
    ws = out.active
    ws.title = "回盘"
    ws.append(RETURN_HEAD)
    for n, line in enumerate(lines):
        x = dict(zip(head, line, strict=False))
        failed = n in (1, len(lines) - 1)
        ws.append([x.get("账号"), x.get("户名"), x.get("金额"), "失败" if failed else "成功",
                   "账户已销户" if failed else ""])
    out.save(target)


@functools.cache
def campaign() -> Part:
    """A campaign with a SQLite ledger on samples/rosters: allocate (version 1), publish, an
    objection upheld, allocate (version 2 and its change list), approve (the sign sheets), the bank
    file, the bank's return (two lines failed) and its import (the re-payment batch), ledger
    list/verify; and a second ledger that records the 12-village allocation.csv."""
    part = Part(_folder("台账"))
    rules = _rules(part.folder)
    part.written_by_test.add(part.folder / rules)
    (part.folder / "花名册").mkdir()
    for p in SAMPLE_ROSTERS:
        shutil.copy(p, part.folder / "花名册" / p.name)
        part.written_by_test.add(part.folder / "花名册" / p.name)
    rosters = [f"花名册/{p.name}" for p in SAMPLE_ROSTERS]
    ledger = "sqlite:///台账.db"
    out = "核定结果"
    part.run("ledger", "init", "--ledger", ledger)
    part.run("allocate", *rosters, "--rules", rules, "-o", out, "--ledger", ledger)
    part.run("publish", out, "--ledger", ledger)
    if not (part.folder / out / "allocation.csv").is_file():
        return part
    target = allocation_rows(part.folder / out)[0]["身份证号"]
    code = "spring-2027"  # campaign.code of the shipped rules
    part.run("objection", "add", target, "-c", code, "--reason", "家中有小轿车", "--raised-by", "匿名来电",
             "--date", "2026-12-02", "--ledger", ledger)
    part.run("objection", "list", "-c", code, "--ledger", ledger)
    part.run("objection", "decide", 1, "--upheld", "--note", "经入户核实属实", "--date", "2026-12-03", "--by", "李四",
             "--ledger", ledger)
    part.run("allocate", *rosters, "--rules", rules, "-o", out, "--ledger", ledger)
    part.run("explain", target, *rosters, "--rules", rules, "--ledger", ledger)
    part.run("approve", out, "--org", "镇民政办", "--by", "王五", "--ledger", ledger)
    part.run("payment", "banks")
    part.run("payment", "file", out, "--bank", BANK, "--ledger", ledger)
    batches = sorted((part.folder / out / "代发文件").glob("第1批*.xlsx"))
    if batches:
        answer = part.folder / "回盘1.xlsx"
        try:
            _bank_return(batches[0], answer)
        except (KeyError, IndexError, ValueError, OSError) as exc:  # the batch workbook changed shape
            part.said.append(Said(["(the test's bank return)"], -1, "", f"cannot answer {batches[0].name}: {exc!r}"))
        else:
            part.written_by_test.add(answer)
            part.run("payment", "import", out, answer.name, "--bank", BANK, "--ledger", ledger, expect=(1,))
    part.run("ledger", "list", "--ledger", ledger)
    part.run("ledger", "verify", "--ledger", ledger)
    part.run("duplicates", "list", "--ledger", ledger)
    part.run("check-duplicates", *rosters, "--ledger", ledger, expect=(0, 1))
    part.run("ledger", "export", "-o", "台账导出.csv", "--hashed", "--ledger", ledger)
    twelve = twelve_villages().folder / "核定结果" / "allocation.csv"
    if twelve.is_file():
        shutil.copy(twelve, part.folder / "十二个村的名单.csv")
        part.written_by_test.add(part.folder / "十二个村的名单.csv")
        other = "sqlite:///县总工会台账.db"
        part.run("ledger", "init", "--ledger", other)
        part.run("ledger", "record", "十二个村的名单.csv", "--org", "县总工会", "--campaign", "2027", "--ledger", other)
    return part


@functools.cache
def other_recipients() -> Part:
    """The two campaigns whose recipients are not households, on the bundled examples: the
    front-line unit list (allocate, budget) and the union's event roster (allocate, budget)."""
    part = Part(_folder("单位和事件"))
    (part.folder / "规则").mkdir()
    for rules, roster, name in ((ROOT / "rules" / "frontline.yaml", UNIT_LIST, "一线"),
                                (ROOT / "rules" / "union-events.yaml", EVENT_ROSTER, "工会")):
        shutil.copy(rules, part.folder / "规则" / f"{name}.yaml")
        shutil.copy(roster, part.folder / f"{name}名单.xlsx")
        part.written_by_test.update({part.folder / "规则" / f"{name}.yaml", part.folder / f"{name}名单.xlsx"})
        part.run("allocate", f"{name}名单.xlsx", "--rules", f"规则/{name}.yaml", "-o", f"{name}结果")
        part.run("budget", f"{name}名单.xlsx", "--rules", f"规则/{name}.yaml", "-o", f"{name}预算")
    return part


@functools.cache
def cron_run() -> Part:
    """weiwen run, as docs/cron.md sets it up: rules/ and the rosters the rules name, in its folder."""
    part = Part(_folder("定时运行"))
    (part.folder / "rules").mkdir()
    text = SHIPPED_RULES.read_text(encoding="utf-8").replace("samples/rosters/*.xlsx", "花名册/*.xlsx")
    (part.folder / "rules" / "春节.yaml").write_text(text, encoding="utf-8")
    (part.folder / "花名册").mkdir()
    for p in SAMPLE_ROSTERS:
        shutil.copy(p, part.folder / "花名册" / p.name)
    part.written_by_test.update(part.folder.rglob("*"))
    part.run("run", "春节")
    return part


# --- the sheets to print ---------------------------------------------------------------------------------

SHEET_TAG = re.compile(r"<sheet\b[^>]*?/>")
NAME_ATTR = re.compile(r'\bname="([^"]*)"')
STATE_ATTR = re.compile(r'\s+state="[^"]*"')
HIDDEN_ATTR = re.compile(r'\bstate="(hidden|veryHidden)"')
VIEW_ATTRS = re.compile(r'\s+(activeTab|firstSheet)="[0-9]+"')
WORKBOOK_VIEW = re.compile(r"<workbookView\b")


def visible_sheets(book: Path) -> list[str]:
    """The names of the sheets a clerk sees (not hidden), in tab order."""
    with zipfile.ZipFile(book) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    return [html.unescape(NAME_ATTR.search(tag).group(1))  # type: ignore[union-attr]
            for tag in SHEET_TAG.findall(xml) if not HIDDEN_ATTR.search(tag)]


def hide_all_but(book: Path, keep: Collection[str], target: Path) -> None:
    """A copy of ``book`` in which every sheet not in ``keep`` is hidden, so that it is not printed."""
    with zipfile.ZipFile(book) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
        names = [html.unescape(NAME_ATTR.search(t).group(1))  # type: ignore[union-attr]
                 for t in SHEET_TAG.findall(xml)]
        shown = [i for i, n in enumerate(names) if n in keep]
        order = iter(names)

        def tag(m: re.Match[str]) -> str:
            if next(order) in keep:
                return m.group(0)
            return STATE_ATTR.sub("", m.group(0))[:-2].rstrip() + ' state="hidden"/>'

        xml = SHEET_TAG.sub(tag, xml)
        xml = VIEW_ATTRS.sub("", xml)
        xml = WORKBOOK_VIEW.sub(f'<workbookView activeTab="{shown[0] if shown else 0}"', xml, count=1)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for item in z.infolist():
                out.writestr(item, xml.encode("utf-8") if item.filename == "xl/workbook.xml" else z.read(item))


# --- what must be on this machine ------------------------------------------------------------------------

def soffice() -> str:
    """The LibreOffice binary; the test fails (saying how to install it) when there is none."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.fail(f"LibreOffice (soffice) is not installed, so the print checks cannot run: {INSTALL}")
    return found


def require_fonts() -> None:
    """Carlito (the metrics of Calibri) and Noto CJK: without them LibreOffice lays text out with
    other widths and the page measurements mean nothing."""
    fc = shutil.which("fc-list")
    listed = subprocess.run([fc, ":", "family"], capture_output=True, text=True, check=False).stdout if fc else ""
    missing = [f for f in ("Carlito", "Noto Sans CJK SC") if f not in listed]
    if missing:
        pytest.fail(f"fonts missing for the print checks: {', '.join(missing)}: {INSTALL}")


def pdfium():  # type: ignore[no-untyped-def]
    try:
        import pypdfium2
        import pypdfium2.raw  # noqa: F401
    except ImportError:
        pytest.fail(f"pypdfium2 is not installed (a test dependency): {INSTALL}")
    return pypdfium2


# --- pages -------------------------------------------------------------------------------------------------

@dataclass
class Page:
    number: int  # from 1, within its sheet
    width: float  # points
    height: float
    text: str  # as PDFium reads it: the cells' text, with spaces and line breaks between
    tops: list[float] = field(repr=False)  # for each character of ``text``: its top, in points from the paper's top
    runs: list[tuple[float, str]] = field(repr=False)  # (effective size in points, the text drawn at it)

    @functools.cached_property
    def compact(self) -> str:
        return compact(self.text)

    @property
    def smallest(self) -> float:
        return min((s for s, _ in self.runs), default=math.inf)

    def smaller_than(self, points: float) -> list[tuple[float, str]]:
        return [(s, t) for s, t in self.runs if s < points - 0.05]

    def has(self, text: str) -> bool:
        return compact(text) in self.compact

    def is_a4(self) -> bool:
        w, h = sorted((self.width, self.height))
        return abs(w - A4[0]) <= PAPER_SLACK and abs(h - A4[1]) <= PAPER_SLACK

    @functools.cached_property
    def id_tops(self) -> list[float]:
        """Where on the page each ID number printed whole stands (its top, from the paper's top):
        one per row of people."""
        return [self.tops[m.start()] for m in ID_NUMBER.finditer(self.text)]

    def ids(self) -> int:
        """How many ID numbers (full or masked) are printed whole on the page: its rows of people."""
        return len(self.id_tops)


@dataclass
class Printed:
    """One sheet of one workbook, as printed."""
    book: Path
    sheet: str
    pdf: Path  # the PDF of the whole book
    first: int  # the number of this sheet's first page in that PDF
    pages: list[Page]

    @property
    def where(self) -> str:
        root = season_root()
        name = str(self.book.relative_to(root)) if root and self.book.is_relative_to(root) else self.book.name
        return f"{name} › {self.sheet}"


def read_pdf(path: Path) -> tuple[list[Page], list[tuple[str, int]]]:
    """The pages of a PDF and its top-level bookmarks (title, index of the page it points to)."""
    lib = pdfium()
    raw = lib.raw
    doc = lib.PdfDocument(str(path))
    pages: list[Page] = []
    try:
        marks = []
        for mark in doc.get_toc():
            dest = mark.get_dest()
            if mark.level == 0 and dest is not None:
                marks.append((mark.get_title(), dest.get_index()))
        matrix = raw.FS_MATRIX()
        box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        for i in range(len(doc)):
            page = doc[i]
            width, height = page.get_size()
            tp = page.get_textpage()
            chars: list[str] = []
            tops: list[float] = []
            runs: list[tuple[float, str]] = []
            for j in range(tp.count_chars()):
                ch = chr(raw.FPDFText_GetUnicode(tp.raw, j))
                if 0xDC00 <= ord(ch) <= 0xDFFF and chars and 0xD800 <= ord(chars[-1][-1]) <= 0xDBFF:
                    chars[-1] = (chars[-1] + ch).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
                    if runs:
                        runs[-1] = (runs[-1][0], runs[-1][1][:-1] + chars[-1])
                    continue  # the second half of a character beyond the BMP (𠮷): one character
                chars.append(ch)
                if raw.FPDFText_IsGenerated(tp.raw, j) or ch.isspace():
                    tops.append(tops[-1] if tops else 0.0)
                    if runs and not runs[-1][1].endswith(" "):
                        runs[-1] = (runs[-1][0], runs[-1][1] + " ")
                    continue
                raw.FPDFText_GetCharBox(tp.raw, j, *(ctypes.byref(b) for b in box))
                tops.append(height - box[3].value)
                raw.FPDFText_GetMatrix(tp.raw, j, ctypes.byref(matrix))
                scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
                size = round(raw.FPDFText_GetFontSize(tp.raw, j) * scale, 1)
                if runs and runs[-1][0] == size:
                    runs[-1] = (size, runs[-1][1] + ch)
                else:
                    runs.append((size, ch))
            pages.append(Page(i + 1, width, height, "".join(chars), tops, [(s, t.strip()) for s, t in runs]))
            tp.close()
            page.close()
    finally:
        doc.close()
    return pages, marks


def render(books: Mapping[Path, Collection[str] | None], workdir: Path) -> dict[tuple[Path, str], Printed]:
    """Print the given sheets of each book (None: every visible sheet) to PDF, a PDF per book, in
    ONE LibreOffice run.  Returns (book, sheet) -> its pages."""
    binary = soffice()
    require_fonts()
    pdfium()
    staged, pdfs = workdir / "books", workdir / "pdf"
    staged.mkdir(parents=True, exist_ok=True)
    pdfs.mkdir(exist_ok=True)
    jobs: dict[str, tuple[Path, list[str]]] = {}
    for book, keep in books.items():
        sheets = [s for s in visible_sheets(book) if keep is None or s in keep]
        if sheets:
            stem = f"{len(jobs):04d}"
            hide_all_but(book, sheets, staged / f"{stem}.xlsx")
            jobs[stem] = (book, sheets)
    if not jobs:
        return {}
    command = [binary, f"-env:UserInstallation={(workdir / 'lo').as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", "pdf", "--outdir", str(pdfs),
               *(str(staged / f"{s}.xlsx") for s in jobs)]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT, check=False, env=env)
    out: dict[tuple[Path, str], Printed] = {}
    faults = []
    for stem, (book, sheets) in jobs.items():
        pdf = pdfs / f"{stem}.pdf"
        if not pdf.is_file():
            faults.append(f"{book.name}: no PDF")
            continue
        pages, marks = read_pdf(pdf)
        starts = dict(marks)
        if set(starts) - set(sheets) or [t for t, _ in marks] != [s for s in sheets if s in starts]:
            faults.append(f"{book.name}: the PDF's bookmarks {[t for t, _ in marks]} are not its sheets {sheets}")
            continue
        ends = [i for _, i in marks[1:]] + [len(pages)]
        spans = {t: (i, end) for (t, i), end in zip(marks, ends, strict=True)}
        for sheet in sheets:  # a sheet with nothing to print has no bookmark and no page
            start, end = spans.get(sheet, (0, 0))
            mine = [dataclasses.replace(p, number=k + 1) for k, p in enumerate(pages[start:end])]
            out[(book, sheet)] = Printed(book, sheet, pdf, start + 1, mine)
    if faults:
        pytest.fail("LibreOffice did not print every sheet (exit {}):\n{}\n{}".format(
            done.returncode, "\n".join(faults), done.stderr[-2000:]))
    return out


def picture(printed: Printed, page: int, target: Path, dpi: int = 60) -> Path:
    """One page as a PNG (poppler's pdftoppm), for a person to look at when a check fails."""
    n = printed.first + page - 1
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(n), "-l", str(n), "-singlefile",
                    str(printed.pdf), str(stem)], check=True)
    return stem.with_suffix(".png")


def runs_text(runs: Sequence[tuple[float, str]], limit: int = 3) -> str:
    """A few (size, text) runs, for a message."""
    shown = [f"{s:g} pt “{t[:24]}{'…' if len(t) > 24 else ''}”" for s, t in runs[:limit]]
    return ", ".join(shown) + (f" (+{len(runs) - limit} more)" if len(runs) > limit else "")
