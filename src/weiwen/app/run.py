"""Unattended runs (``weiwen run``): validate, check duplicates, allocate and budget, from cron.

Guarantees, so that nobody has to watch it:
- one run per campaign at a time: a file lock; a second run exits with ``ExitCode.LOCKED``;
- nothing half-written: everything is built in a hidden temporary folder beside the outputs,
  which is renamed into place as a whole; the pointer file 最新结果.txt (the latest folder's
  name on its first line) is replaced in one step, and only when the run succeeded — a run
  killed at any moment leaves the previous outputs as they were.  A plain file rather than a
  symlink: creating symlinks on Windows needs administrator rights or developer mode;
- ``--if-changed`` skips a run whose rosters and rules are byte-for-byte those of the latest run;
- a manifest lists every input and output with its sha256, the versions, the counts and the
  exit status; two logs (human and JSON lines) record counts and codes, never personal data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from filelock import FileLock, Timeout

from weiwen import __version__

from weiwen.model.recipients import RecipientKind
from weiwen.core import jsonout
from weiwen.budget import figures
from weiwen.dedupe import find_duplicates
from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.sheets.decision_book import write_outputs
from weiwen.core.atomic import remove_stale_tmp, sha256_file, write_atomic, write_text_atomic
from weiwen.sheets.budget_book import write_budget
from weiwen.sheets.duplicates_book import write_duplicates
from weiwen.app.pipeline import load_and_decide
from weiwen.read.inputs import expand_inputs
from weiwen.rules import LoadedRules, roster_paths
from weiwen.model.vocab import Vocabulary

LOG = "运行日志.txt"  # one line per event, for people (weiwen.jsonl beside it is for programs)
LATEST = "最新结果.txt"  # first line: the latest complete run's folder name (beside it)
DEPENDENCIES = ("pandas", "python-calamine", "openpyxl", "rustpy-xlsxwriter", "XlsxWriter", "pydantic", "SQLAlchemy")


@dataclass
class RunResult:
    status: str  # done / skipped
    exit_code: ExitCode
    folder: Path | None = None
    counts: dict[str, object] = field(default_factory=dict)


class RunLog:
    """运行日志.txt for people and weiwen.jsonl for programs: events with counts, never personal data."""

    def __init__(self, root: Path, campaign: str):
        self.root = root
        self.campaign = campaign

    def __call__(self, event: str, message: str, **fields: object) -> None:
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        with (self.root / LOG).open("a", encoding="utf-8") as fh:
            fh.write(f"{now} [{self.campaign}] {message}\n")
        with (self.root / "weiwen.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"time": now, "campaign": self.campaign, "event": event, **fields},
                                ensure_ascii=False) + "\n")


def run_campaign(loaded: LoadedRules, vocab: Vocabulary, out_root: Path | None = None,
                 if_changed: bool = False, now: datetime | None = None) -> RunResult:
    rules = loaded.rules
    cfg = rules.run
    root = (out_root or Path(cfg.output)).resolve()
    root.mkdir(parents=True, exist_ok=True)
    log = RunLog(root, rules.campaign.code)
    lock = FileLock(str(root / f".{rules.campaign.code}.运行锁"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        log("locked", "另一个任务正在运行，本次退出。")
        raise WeiwenError(f"活动 {rules.campaign.code} 的另一个任务正在运行（{root}），本次未运行。",
                          code="run-locked", exit_code=ExitCode.LOCKED) from None
    try:
        return _run(loaded, vocab, root, log, if_changed, now or datetime.now())
    finally:
        lock.release()


def _run(loaded: LoadedRules, vocab: Vocabulary, root: Path, log: RunLog, if_changed: bool,
         now: datetime) -> RunResult:
    rules = loaded.rules
    found = expand_inputs(roster_paths(loaded, None))  # an open workbook's ~$ lock file is no roster
    files = found.files
    if found.problems or not files:
        raise WeiwenError("；".join(p.message for p in found.problems) or "campaign.rosters 找到的都是临时锁定文件。",
                          code="rosters-missing")
    inputs = [{"path": str(p), "sha256": sha256_file(p)} for p in files]
    inputs_key = hashlib.sha256(json.dumps([loaded.digest, inputs], sort_keys=True).encode()).hexdigest()
    latest = latest_folder(root)
    if if_changed and latest is not None:
        try:
            previous = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            previous = {}
        if previous.get("inputs_key") == inputs_key and previous.get("exit_status") in (0, 1):
            log("skipped", "花名册和规则都没有变化，跳过本次运行。")
            return RunResult("skipped", ExitCode.OK, latest)

    stamp = now.strftime("%Y-%m-%dT%H%M")
    final = root / stamp
    n = 2
    while final.exists():
        final = root / f"{stamp}-{n}"
        n += 1
    for stale in root.glob(".*.partial"):  # left by a run that was killed; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    remove_stale_tmp([root], before=time.time())  # a pointer file's, when a run was killed switching it
    work = root / f".{final.name}.partial"
    work.mkdir(mode=0o750)
    for note in found.notes:
        log("skipped-file", note)
    log("start", f"开始运行：{len(files)} 个花名册。", files=len(files))
    try:
        counts, exit_code = _steps(loaded, vocab, files, work, log)
        outputs = sorted(p for p in work.rglob("*") if p.is_file())
        manifest = {
            "campaign": rules.campaign.code,
            "started": now.isoformat(timespec="seconds"),
            "finished": datetime.now().isoformat(timespec="seconds"),
            "inputs": inputs,
            "rules": {"path": str(loaded.path), "sha256": loaded.digest},
            "inputs_key": inputs_key,
            "versions": {"weiwen": __version__, **_versions()},
            "outputs": [{"path": str(p.relative_to(work)), "sha256": sha256_file(p)} for p in outputs],
            "counts": counts,
            "exit_status": int(exit_code),
        }
        write_text_atomic(work / "manifest.json", jsonout.dumps(manifest))
        os.replace(work, final)  # the whole dated folder appears at once
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        log("failed", f"运行失败，已有的输出和 {LATEST} 未改动。")
        raise
    finished = datetime.now().strftime("%Y-%m-%d %H:%M")
    pointer = (f"\ufeff{final.name}\r\n最新一次运行的结果在文件夹 {final.name} 中"
               f"（{finished} 完成，退出码 {int(exit_code)}）。\r\n")  # a BOM and CRLF: Windows Notepad reads it
    write_atomic(root / LATEST, lambda tmp: tmp.write_bytes(pointer.encode("utf-8")))  # switches in one step
    old_link = root / "latest"  # the symlink that versions before 0.9 kept
    if old_link.is_symlink():
        old_link.unlink()
    log("done", f"运行完成：{final.name}，退出码 {int(exit_code)}。", folder=final.name, exit_status=int(exit_code),
        **{k: v for k, v in counts.items() if isinstance(v, (int, str))})
    return RunResult("done", exit_code, final, counts)


def latest_folder(root: Path) -> Path | None:
    """The latest complete run's folder, from the pointer file; ``None`` when there is none yet
    (or the pointer names anything but an existing folder directly beside it)."""
    try:
        name = (root / LATEST).read_text(encoding="utf-8-sig").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    folder = root / name
    if not name or name.startswith(".") or Path(name).name != name or "\\" in name or not folder.is_dir():
        return None
    return folder.resolve()


def _steps(loaded: LoadedRules, vocab: Vocabulary, files: list[Path], work: Path, log: RunLog
           ) -> tuple[dict[str, object], ExitCode]:
    rules = loaded.rules
    steps = rules.run.steps
    intake, decision = load_and_decide(files, loaded, vocab, ledger_url=rules.run.ledger)
    counts: dict[str, object] = {"rows": intake.rows, "valid_rows": intake.valid_rows,
                                 "errors": len(intake.errors), "warnings": len(intake.warnings)}
    if decision is None:
        raise WeiwenError("有花名册无法读取，本次未生成输出；详见 weiwen validate。", code="run-unreadable")
    code = ExitCode.PROBLEMS if intake.errors else ExitCode.OK
    if "validate" in steps:
        write_text_atomic(work / "校验报告.json", jsonout.dumps(intake.to_json()))
        log("validate", f"校验：{intake.rows} 人，错误 {len(intake.errors)} 条。", rows=intake.rows,
            errors=len(intake.errors))
    if "duplicates" in steps and decision.kind is not RecipientKind.HOUSEHOLD:
        # A member with several events is listed several times by design; a unit or an event listed
        # twice is already an error of the intake (unit-duplicate, event-duplicate).
        log("duplicates", "查重：单位名单和事件登记表的重复已在校验中检查（同一单位、同一人同一天的同一事由）。", groups=0)
    elif "duplicates" in steps:
        groups = find_duplicates(intake.frame)
        write_duplicates(work / "重复核查.xlsx", groups)
        counts["duplicate_groups"] = len(groups)
        if groups:
            code = ExitCode.PROBLEMS
        log("duplicates", f"查重：{len(groups)} 组。", groups=len(groups))
    counts.update({"households": len(decision.table), "total": str(decision.total)})
    if decision.kind is not RecipientKind.HOUSEHOLD:  # what the count counts (cli.batch names it)
        counts["kind"] = decision.kind.value
    if "allocate" in steps:
        write_outputs(decision, work / "核定结果", rules.campaign.name)
        noun = {RecipientKind.UNIT: "个单位", RecipientKind.PERSON: "人次"}.get(decision.kind, "户")
        log("allocate", f"核定：{len(decision.table)} {noun}，合计 {decision.total} 元。",
            households=len(decision.table), total=str(decision.total))
    if "budget" in steps:
        write_budget(work / "预算" / "经费预算.xlsx", figures(decision), rules.campaign.name)
        counts["budget_total"] = str(decision.total)
    return counts, code


def _versions() -> dict[str, str]:
    out = {}
    for name in DEPENDENCIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "?"
    return out
