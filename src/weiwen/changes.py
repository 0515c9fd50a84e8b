"""What changed between two lists of aided households, per household, and why.

Two uses: a reissued list (第2版) against the version that was publicly posted (公示), after
objections removed households; and this year's decision against last year's allocation.csv.
Each list is first turned into :class:`Listed` households (:func:`listed_from_payments`,
:func:`listed_from_decision`); :func:`compare` matches them by their ``key`` only (the head's ID,
or a keyed hash of it: this module never looks inside) and says, in words a clerk reads, what is
new (新增), what is gone (取消) and what changed (变更): village, standards, categories, amount.

Standards are compared by their codes (what allocation.csv carries) and shown by their names
where the names are known.  Pure: writing the workbook is :mod:`weiwen.sheets.changes_book`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_id
from weiwen.decision import NAMES_SEPARATOR, Decision
from weiwen.model.payment import PaymentRow
from weiwen.model.recipients import household_code

SEPARATOR = "、"  # standards and categories are joined by it, as in the decision table
NOT_LISTED = "本次名单中没有该户（花名册未报送）"  # a dropped household the new run knows nothing about
_NO_REASONS: Mapping[str, tuple[str, str]] = MappingProxyType({})
_NO_NAMES: Mapping[str, str] = MappingProxyType({})


def identity(id_number: str) -> str:
    """The default key: the head's full ID itself (internal, never written out)."""
    return id_number


@dataclass(frozen=True)
class Listed:
    """One aided household of a list, as the comparison sees it."""

    key: str  # opaque identity: the head's full ID or a keyed hash of it (never shown)
    code: str  # 户编码 (model.recipients.household_code): internal, never shown
    village: str
    name: str  # the head's name
    id_masked: str
    standards: str  # codes of the standards paid, joined by 、 (compared)
    categories: str  # the household's categories joined by 、; '' when the list has none (allocation.csv)
    total_fen: int
    standard_names: str = ""  # names of the standards paid, joined by 、 (shown); '' when unknown

    @property
    def shown_standards(self) -> str:
        """The standards as a clerk reads them: their names when known, else their codes."""
        return self.standard_names or self.standards


class ChangeKind(StrEnum):
    ADDED = "新增"
    DROPPED = "取消"
    CHANGED = "变更"


_KIND_ORDER = {ChangeKind.ADDED: 0, ChangeKind.DROPPED: 1, ChangeKind.CHANGED: 2}


@dataclass(frozen=True)
class Change:
    """One household that differs between the two lists, with every difference in words."""

    kind: ChangeKind
    village: str
    name: str
    id_masked: str
    before: Listed | None
    after: Listed | None
    reasons: tuple[str, ...]

    @property
    def key(self) -> str:
        listed = self.after if self.after is not None else self.before
        assert listed is not None
        return listed.key

    @property
    def difference_fen(self) -> int:
        """The amount after minus the amount before (a dropped household: minus what it had)."""
        return (self.after.total_fen if self.after else 0) - (self.before.total_fen if self.before else 0)


@dataclass(frozen=True)
class ChangeCounts:
    """Households per kind of change, and what each kind adds to the total (after − before), in fen."""

    added: int = 0
    dropped: int = 0
    changed: int = 0
    added_fen: int = 0  # ≥ 0: what the new households receive
    dropped_fen: int = 0  # ≤ 0: minus what the dropped households had
    changed_fen: int = 0  # either sign

    @property
    def households(self) -> int:
        return self.added + self.dropped + self.changed

    @property
    def difference_fen(self) -> int:
        """The whole list's amount after minus before."""
        return self.added_fen + self.dropped_fen + self.changed_fen


def count_changes(changes: Sequence[Change]) -> ChangeCounts:
    n = {k: 0 for k in ChangeKind}
    fen = {k: 0 for k in ChangeKind}
    for c in changes:
        n[c.kind] += 1
        fen[c.kind] += c.difference_fen
    return ChangeCounts(added=n[ChangeKind.ADDED], dropped=n[ChangeKind.DROPPED], changed=n[ChangeKind.CHANGED],
                        added_fen=fen[ChangeKind.ADDED], dropped_fen=fen[ChangeKind.DROPPED],
                        changed_fen=fen[ChangeKind.CHANGED])


def standard_names(decision: Decision) -> dict[str, str]:
    """Each standard's code -> its name, from the campaign's rules (to show the codes of an
    allocation.csv by name)."""
    return {s.code: s.name for s in decision.plan.rules.standards}


def listed_from_payments(rows: Sequence[PaymentRow], key: Callable[[str], str] = identity, *,
                         names: Mapping[str, str] = _NO_NAMES) -> list[Listed]:
    """The households of allocation.csv (:func:`weiwen.read.allocation_csv.read_allocation_csv`).

    The file has no categories (``categories`` is ''); its 享受标准 are the standards' names
    joined by ；(files written before 0.9: their codes, joined by 、), turned into codes by
    ``names`` (code -> name, e.g. :func:`standard_names` of the run it is compared with) to be
    compared; a name the rules do not know stays as it is."""
    out = []
    code_of = {name: code for code, name in names.items()}
    for r in rows:
        cents = r.total * 100
        total_fen = int(cents)
        if cents != total_fen:  # PaymentRow allows two decimals: never true
            raise ValueError(f"amount {r.total} is not a whole number of fen")
        out.append(Listed(key=key(r.id_number), code=r.code, village=r.village, name=r.head_name,
                          id_masked=mask_id(r.id_number), standards=(codes := _codes_of(r.standards, code_of)),
                          categories="", total_fen=total_fen, standard_names=_names_of(codes, names)))
    return out


def listed_from_decision(decision: Decision, key: Callable[[str], str] = identity) -> list[Listed]:
    """The aided households of a decision (its table).  A recipient without a head ID (a unit) is
    keyed by its 户编码."""
    t = decision.table
    if not len(t):
        return []
    columns = ("link", "village", "ref", "head_name", "head_id", "applied", "applied_names", "categories",
               "total_fen")
    values = [t[c].tolist() for c in columns]
    out = []
    for link, village, ref, name, head_id, applied, applied_names, categories, total in zip(*values, strict=True):
        code = household_code(str(link), str(village), str(ref))
        head_id = head_id if isinstance(head_id, str) else ""
        out.append(Listed(key=key(head_id) if head_id else f"户编码:{code}", code=code, village=str(village),
                          name=str(name), id_masked=mask_id(head_id), standards=_text(applied),
                          categories=_text(categories), total_fen=int(total), standard_names=_text(applied_names)))
    return out


def left_out_reasons(decision: Decision, key: Callable[[str], str] = identity) -> dict[str, tuple[str, str]]:
    """key -> (kind, reason) of every row or household the decision left out (by the full ID in
    ``LeftOut.id_number``; entries without one are skipped).  Several entries for one ID (the head's
    row has an error, so the household waits) keep the first kind and join their distinct reasons."""
    out: dict[str, tuple[str, str]] = {}
    for x in decision.left_out:
        if not isinstance(x.id_number, str) or not x.id_number:
            continue
        k = key(x.id_number)
        if k not in out:
            out[k] = (x.kind, x.reason)
        elif x.reason and x.reason not in out[k][1].split("；"):
            kind, reason = out[k]
            out[k] = (kind, f"{reason}；{x.reason}" if reason else x.reason)
    return out


def compare(previous: Sequence[Listed], current: Sequence[Listed],
            left_out: Mapping[str, tuple[str, str]] = _NO_REASONS) -> list[Change]:
    """Every household new in ``current``, gone from ``previous`` or different, with its reasons.

    Households are matched by ``key`` only; one with no difference is not listed.  A dropped
    household's reason comes from ``left_out`` (key -> (kind, reason), :func:`left_out_reasons`),
    else it is :data:`NOT_LISTED`.  The order is by village, kind (新增, 取消, 变更), name, key.
    A key listed twice in one list is a :class:`WeiwenError`: the two lists cannot be compared
    household by household until the duplicate is resolved."""
    before = _by_key(previous, "原名单")
    after = _by_key(current, "现名单")
    changes: list[Change] = []
    for k, b in before.items():
        a = after.get(k)
        if a is None:
            kind, reason = left_out.get(k, ("", ""))
            why = f"{kind}：{reason}" if kind and reason else (reason or kind or NOT_LISTED)
            changes.append(Change(ChangeKind.DROPPED, b.village, b.name, b.id_masked, b, None, (why,)))
            continue
        reasons = _differences(b, a)
        if reasons:
            changes.append(Change(ChangeKind.CHANGED, a.village, a.name, a.id_masked, b, a, reasons))
    for k, a in after.items():
        if k not in before:
            shown = a.shown_standards
            why = f"新纳入，享受标准：{shown}" if shown else "新纳入"
            changes.append(Change(ChangeKind.ADDED, a.village, a.name, a.id_masked, None, a, (why,)))
    changes.sort(key=lambda c: (c.village, _KIND_ORDER[c.kind], c.name, c.key))
    return changes


def yuan_text(fen: int) -> str:
    """1100.00 (fen to yuan with two decimals, exact)."""
    return f"{Decimal(fen) / 100:.2f}"


def _differences(b: Listed, a: Listed) -> tuple[str, ...]:
    out = []
    if b.village != a.village:
        out.append(f"村(社区)由 {b.village or '（未填）'} 变为 {a.village or '（未填）'}")
    if b.name != a.name:
        out.append(f"户主姓名由 {b.name or '（未填）'} 变为 {a.name or '（未填）'}")
    if _parts(b.standards) != _parts(a.standards):
        was, now = b.shown_standards or "无", a.shown_standards or "无"
        if was == now:  # the same names for other codes: another standard of the plan, named alike
            out.append(f"享受标准名称同为 {now}，但已是规则中的另一项标准（规则中这项标准的代码改了）")
        else:
            out.append(f"享受标准由 {was} 变为 {now}")
    if b.categories and a.categories and _parts(b.categories) != _parts(a.categories):
        out.append(f"类别由 {b.categories} 变为 {a.categories}")
    if b.total_fen != a.total_fen:
        out.append(f"金额由 {yuan_text(b.total_fen)} 元变为 {yuan_text(a.total_fen)} 元")
    return tuple(out)


def _by_key(listed: Sequence[Listed], which: str) -> dict[str, Listed]:
    out: dict[str, Listed] = {}
    twice: dict[str, list[Listed]] = {}
    for x in listed:
        if x.key in out:
            twice.setdefault(x.key, [out[x.key]]).append(x)
        else:
            out[x.key] = x
    if twice:
        shown = [f"{xs[0].id_masked or xs[0].name}（{len(xs)} 次：{SEPARATOR.join(x.village or '未填村名' for x in xs)}）"
                 for xs in list(twice.values())[:5]]
        more = f"等 {len(twice)} 人" if len(twice) > 5 else ""
        raise WeiwenError(f"{which}中同一户主出现不止一次：{SEPARATOR.join(shown)}{more}。无法逐户比对，"
                          "请先用 weiwen duplicates 查重并更正花名册。", code="changes-duplicate")
    return out


def _parts(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.split(SEPARATOR) if p.strip())


def _codes_of(listed: str, code_of: Mapping[str, str]) -> str:
    """The codes of an allocation.csv's 享受标准: names joined by ； (or one name), else the codes of
    an older file, joined by 、."""
    if NAMES_SEPARATOR in listed or listed.strip() in code_of:
        return SEPARATOR.join(code_of.get(p.strip(), p.strip()) for p in listed.split(NAMES_SEPARATOR) if p.strip())
    return listed


def _names_of(codes: str, names: Mapping[str, str]) -> str:
    if not names:
        return ""
    return NAMES_SEPARATOR.join(names.get(c, c) for c in (p.strip() for p in codes.split(SEPARATOR)) if c)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
