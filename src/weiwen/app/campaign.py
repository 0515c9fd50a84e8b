"""After the list is made: its versions, the posting, approval, the bank batches and their returns.

A campaign run with a ledger (``allocate --ledger``) writes its folder as a *version* of the list:
the same decision again is the same version; anything else is the next one.  The folder holds
manifest.json — the version, the digests of the inputs (rosters, rules, aliases) and of every
output file — so that ``publish``, ``approve`` and ``payment`` can prove they act on exactly the
files that version wrote.  Sign sheets and bank files come only from an approved version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from weiwen.changes import (Listed, compare, count_changes, left_out_reasons, listed_from_decision,
                            listed_from_payments, standard_names)
from weiwen.core import jsonout
from weiwen.core.atomic import sha256_file, write_text_atomic
from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.core.output_set import settle
from weiwen.decision import Decision
from weiwen.read.allocation_csv import read_allocation_csv
from weiwen.sheets.changes_book import write_changes_book
from weiwen.sheets.decision_book import DECISION_ARROW, write_sign_sheets

MANIFEST = "manifest.json"
FORMAT = "weiwen-manifest-1"


def decision_digest(decision: Decision) -> str:
    """The content of a decision (every household, amount and member), independent of any file."""
    h = hashlib.sha256()
    table = decision.table[sorted(decision.table.columns)]
    h.update(",".join(table.columns).encode())
    h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(decision.members, index=False).to_numpy().tobytes())
    return h.hexdigest()


def inputs_digest(paths: Sequence[Path], rules_digest: str, aliases: Path | None) -> tuple[str, list[dict[str, str]]]:
    files = [{"文件": p.name, "sha256": sha256_file(p)} for p in paths]
    text = "\n".join(f"{f['文件']}:{f['sha256']}" for f in sorted(files, key=lambda f: (f["文件"], f["sha256"])))
    text += f"\nrules:{rules_digest}\naliases:{sha256_file(aliases) if aliases else ''}"
    return hashlib.sha256(text.encode()).hexdigest(), files


def outputs_digest(outputs: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k}:{v}" for k, v in sorted(outputs.items())).encode()).hexdigest()


@dataclass
class Manifest:
    folder: Path
    campaign: str
    title: str
    version: int
    digest: str
    outputs: dict[str, str]  # file (relative to the folder) -> sha256
    goods: list[tuple[str, str]]

    @property
    def outputs_digest(self) -> str:
        return outputs_digest(self.outputs)


def write_manifest(folder: Path, *, campaign: str, title: str, version: int, digest: str, inputs: list[dict[str, str]],
                   rules_digest: str, written: Sequence[Path], goods: list[tuple[str, str]]) -> Path:
    outputs = {str(p.relative_to(folder)): sha256_file(p) for p in written if p.is_file()}
    doc = {"格式": FORMAT, "活动": campaign, "标题": title, "版本": version, "核定内容摘要": digest,
           "输入": {"花名册": inputs, "规则": rules_digest}, "输出": outputs, "物资": [list(g) for g in goods]}
    path = folder / MANIFEST
    write_text_atomic(path, jsonout.dumps(doc))
    return path


def read_manifest(folder: Path, *, check_files: bool = True) -> Manifest:
    """The manifest of a version's folder; with ``check_files``, every output file must still have its digest."""
    path = folder / MANIFEST
    if folder.is_dir():
        settle(folder)  # an allocate killed while switching its files in: finish the switch first
    if folder.exists() and not folder.is_dir():
        raise WeiwenError(f"{folder} 是一个文件：请写 weiwen allocate --ledger 写出的核定结果文件夹（其中有 {MANIFEST}）。",
                          code="manifest-missing", exit_code=ExitCode.USAGE)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        m = Manifest(folder, str(doc["活动"]), str(doc["标题"]), int(doc["版本"]), str(doc["核定内容摘要"]),
                     {str(k): str(v) for k, v in doc["输出"].items()}, [(str(a), str(b)) for a, b in doc["物资"]])
    except FileNotFoundError:
        raise WeiwenError(f"{folder} 中没有 {MANIFEST}：这不是用 weiwen allocate --ledger 生成的一版名单。"
                          "请先用 --ledger 运行 allocate。", code="manifest-missing", exit_code=ExitCode.USAGE) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise WeiwenError(f"{path} 已损坏，无法读取：请重新运行 weiwen allocate --ledger。", code="manifest-invalid",
                          exit_code=ExitCode.USAGE) from None
    if check_files:
        changed = []
        for name, digest in sorted(m.outputs.items()):
            target = folder / name
            if not target.is_file():
                changed.append(f"{name}（不见了）")
            elif sha256_file(target) != digest:
                changed.append(f"{name}（生成后被改动过）")
        if changed:
            raise WeiwenError(f"{folder} 中第 {m.version} 版的文件与生成时不一致：{'、'.join(changed)}。"
                              "被改动过的名单不能审批或发放；请重新运行 weiwen allocate --ledger 生成。",
                              code="version-files-changed")
    return m


# --- allocate --ledger: register the version ---------------------------------------------------------

@dataclass
class Versioned:
    number: int
    new: bool
    reason: str
    digest: str  # the decision's content (decision_digest)
    approved: bool = False
    changes_book: Path | None = None  # the change list against the posted version
    change_counts: tuple[int, int, int] = (0, 0, 0)  # added, dropped, changed


def register_version(ledger_url: str, decision: Decision, *, inputs: str, reason: str | None,
                     operator: str | None) -> tuple[object, Versioned, list[Listed]]:
    """Register the decision as a version of its campaign (in the ledger); the version and the
    households keyed by the ledger (for the change list)."""
    from weiwen.ledger import objections, verdicts, versions
    from weiwen.ledger.store import Ledger

    ledger = Ledger.open(ledger_url, operator)
    code = decision.plan.rules.campaign.code
    state, _pending = objections.state(ledger, code)
    register_state = hashlib.sha256(f"{state}:{verdicts.state(ledger)}".encode()).hexdigest()
    current = listed_from_decision(decision, key=ledger.person_hash)
    lines: list[dict[str, object]] = [
        {"person": x.key, "code": x.code, "village": x.village, "name": x.name, "id_masked": x.id_masked,
         "standards": x.standards, "total_fen": x.total_fen} for x in current]
    table = decision.table
    digest = decision_digest(decision)
    version, new = versions.register(
        ledger, code, digest=digest, inputs=inputs, register_state=register_state, lines=lines,
        total_fen=int(table["total_fen"].sum()) if len(table) else 0,
        cash_fen=int(table["cash_fen"].sum()) if len(table) else 0, reason=reason, operator=operator)
    return ledger, Versioned(version.number, new, version.reason, digest, bool(version.approved_at)), current


def write_change_list(ledger: object, decision: Decision, current: list[Listed], folder: Path, title: str,
                      number: int) -> tuple[Path | None, tuple[int, int, int]]:
    """The change list of version ``number`` against the version posted (none when none was, or it is this one)."""
    from weiwen.ledger import versions
    from weiwen.ledger.store import Ledger

    assert isinstance(ledger, Ledger)
    code = decision.plan.rules.campaign.code
    was = versions.posted(ledger, code)
    if was is None or was.number == number:
        return None, (0, 0, 0)
    names = standard_names(decision)
    before = [Listed(key=str(r["person"]), code=str(r["code"]), village=str(r["village"]), name=str(r["name"]),
                     id_masked=str(r["id_masked"]), standards=str(r["standards"]), categories="",
                     total_fen=int(str(r["total_fen"])),
                     standard_names="；".join(names.get(c, c) for c in str(r["standards"]).split("、") if c))
              for r in versions.lines(ledger, was)]
    changes = compare(before, current, left_out_reasons(decision, key=ledger.person_hash))
    target = folder / f"变更清单（第{number}版与第{was.number}版）.xlsx"
    write_changes_book(target, changes, title=title, before_label=f"公示的第 {was.number} 版",
                       after_label=f"第 {number} 版")
    counts = count_changes(changes)
    return target, (counts.added, counts.dropped, counts.changed)


def write_year_comparison(decision: Decision, previous: Path, folder: Path, title: str) -> Path:
    """``allocate --compare-with``: this decision against an earlier allocation.csv, household by household."""
    earlier = read_allocation_csv(previous, code="compare-input")
    names = standard_names(decision)
    changes = compare(listed_from_payments(earlier.rows, names=names), listed_from_decision(decision),
                      left_out_reasons(decision))
    target = folder / "与上次名单对比.xlsx"
    label = earlier.path.parent.name or earlier.path.name
    write_changes_book(target, changes, title=title, before_label=f"上次名单（{label}）", after_label="本次名单")
    return target


# --- publish and approve ----------------------------------------------------------------------------

@dataclass
class Approved:
    number: int
    campaign: str
    households: int
    total_fen: int
    cash_fen: int
    already: bool
    recorded: int = 0
    persons: int = 0
    conflicts: list[object] = field(default_factory=list)
    sign_sheets: list[Path] = field(default_factory=list)
    voided_lines: int = 0  # bank lines of earlier versions still waiting, now void


def version_of(folder: Path, ledger_url: str | None, operator: str | None):  # type: ignore[no-untyped-def]
    from weiwen.ledger import versions
    from weiwen.ledger.store import Ledger

    m = read_manifest(folder)
    ledger = Ledger.open(ledger_url, operator)
    v = versions.get(ledger, m.campaign, m.version)
    if v.digest != m.digest:
        raise WeiwenError(f"{folder} 的内容与台账中第 {m.version} 版不一致（可能是用另一个台账生成的）。",
                          code="version-mismatch")
    return m, ledger, v


def publish_folder(folder: Path, ledger_url: str | None, operator: str | None) -> tuple[int, str, bool]:
    """Mark the folder's version as posted (公示): (number, campaign, already posted)."""
    from weiwen.ledger import versions

    m, ledger, v = version_of(folder, ledger_url, operator)
    if v.posted_at:
        return v.number, m.campaign, True
    versions.publish(ledger, v, operator)
    return v.number, m.campaign, False


def approve_folder(folder: Path, ledger_url: str | None, org: str, operator: str | None) -> Approved:
    """Approve the folder's version: it must be the latest, no objection may wait, the objections and
    verdicts must be those it applied, and its files must be as written.  The households and every
    person are recorded in the ledger (replacing an earlier approved version's records), the version
    is frozen, and its sign sheets are written."""
    from weiwen.ledger import objections, payments, verdicts, versions

    m, ledger, v = version_of(folder, ledger_url, operator)
    latest = versions.listing(ledger, m.campaign)[-1]
    if latest.number != v.number:
        raise WeiwenError(f"{folder} 是第 {v.number} 版，而活动 {m.campaign} 的最新版本是第 {latest.number} 版："
                          "只能审批最新版本。", code="version-not-latest")
    state, pending = objections.state(ledger, m.campaign)
    if pending:
        raise WeiwenError(f"活动 {m.campaign} 还有 {pending} 条异议没有认定：请先用 weiwen objection decide 认定，"
                          "再重新运行 weiwen allocate --ledger 生成新版本后审批。", code="objections-pending")
    if hashlib.sha256(f"{state}:{verdicts.state(ledger)}".encode()).hexdigest() != v.register:
        raise WeiwenError(f"第 {v.number} 版生成之后，异议认定或查重认定有了变化，这一版没有反映：请重新运行 "
                          "weiwen allocate --ledger 生成新版本后再审批。", code="version-stale")
    holder = versions.approved_by_org(ledger, m.campaign)
    if holder is not None and holder != org:
        raise WeiwenError(f"活动 {m.campaign} 的名单此前由“{holder}”审批；同一活动代码的各版名单只能属于一个单位，"
                          f"“{org}”的审批会取代它的记录。请给本单位的活动用另一个代码（规则文件 campaign.code，"
                          "如 spring-2027-gonghui），并用 ledger.lookback_months 防止跨单位重复。", code="version-other-org")
    done = Approved(v.number, m.campaign, v.households, v.total_fen, v.cash_fen, already=bool(v.approved_at))
    if v.approved_at:
        if v.approved_outputs != m.outputs_digest:
            raise WeiwenError(f"第 {v.number} 版审批时的文件与现在不同。", code="version-files-changed")
    else:
        result = ledger.record(folder / "allocation.csv", org, m.campaign, operator, version=v.number)
        done.recorded, done.persons, done.conflicts = result.new, result.persons, list(result.conflicts)
        if result.conflicts:
            raise WeiwenError(f"有 {len(result.conflicts)} 户中的人已由其他单位在本活动中记账，这一版不能审批："
                              "请用 weiwen check-duplicates --ledger 查明后，重新核定。", code="approve-conflicts",
                              exit_code=ExitCode.PROBLEMS)
        versions.approve(ledger, v, m.outputs_digest, operator)
        done.voided_lines = payments.supersede(ledger, m.campaign, v.number, operator)
    target = folder / f"签领表（第{v.number}版）"
    if (folder / DECISION_ARROW).is_file():
        done.sign_sheets = write_sign_sheets(folder, m.goods, f"{m.title}（第{v.number}版）", target)
    return done
