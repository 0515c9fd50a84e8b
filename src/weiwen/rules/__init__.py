"""Loading campaign rules → validated :class:`Rules`: a YAML file, or a plan workbook (慰问方案.xlsx).

Every mistake in a rules file is reported with its place (a YAML line, or a workbook's sheet,
row, column and cell), its key and, for a misspelt key, the key that was probably meant — all
at once, in Chinese.  Nothing in a rules file is ever evaluated as code.  Both forms give the
same :class:`Rules`; which one a campaign was written in changes nothing downstream.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rapidfuzz import process as fuzz_process

from weiwen.core.errors import WeiwenError
from weiwen.rules.schema import ALL_KEYS, Rules
from weiwen.model.vocab import Vocabulary, extend_categories, load_vocabulary
from weiwen.core.yamlio import load_located_yaml
from weiwen.read.inputs import natural_key
from weiwen.rules.places import Locator, YamlPlaces


def bundled_rules() -> Path:
    """The example campaigns shipped with weiwen: the top-level rules/ folder of a checkout (or an
    editable install), copied into an installed package as weiwen/bundled_rules/ (see setup.py)."""
    installed = Path(__file__).resolve().parents[1] / "bundled_rules"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / "rules"


class RulesError(WeiwenError):
    def __init__(self, path: str, messages: list[str]):
        self.messages = messages
        body = "\n".join(f"  - {m}" for m in messages)
        what = "方案表格" if Path(path).suffix.lower() in PLAN_SUFFIXES else "规则文件"
        super().__init__(f"{what} {path} 有 {len(messages)} 处错误：\n{body}", code="rules-invalid")


@dataclass(frozen=True)
class LoadedRules:
    rules: Rules
    path: Path
    digest: str  # sha256 of the file's bytes: which rules produced an output
    excluded_ids: frozenset[str]
    located: Locator | None = None  # where each key was written (line, or cell), for lint messages


def with_campaign_categories(vocab: Vocabulary, loaded: LoadedRules) -> Vocabulary:
    """``vocab`` extended by the categories the rules file declares (extending twice changes nothing)."""
    return extend_categories(vocab, {name: (d.parent, d.aliases) for name, d in loaded.rules.categories.items()})


def campaign_vocabulary(loaded: LoadedRules, aliases: Path | None = None, cwd: Path | None = None) -> Vocabulary:
    """The one vocabulary of a campaign: the bundled one, ``./weiwen-aliases.yaml``, ``aliases`` and
    the categories the rules file declares.  Every command and library caller uses this."""
    return with_campaign_categories(load_vocabulary(aliases, cwd=cwd), loaded)


RULES_SUFFIXES = (".yaml", ".yml")
PLAN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


def find_campaign(name: str, cwd: Path | None = None) -> Path:
    """``--campaign NAME``: ``rules/NAME.yaml`` or ``rules/NAME.xlsx`` in the working directory, then
    the bundled examples (shipped in both forms, which the tests prove equal).

    When the working directory holds both forms they must describe the same plan: a clerk who
    edited the workbook and left an older YAML beside it would otherwise get the YAML's amounts."""
    folder = (cwd or Path.cwd()) / "rules"
    forms = [p for p in (folder / f"{name}.yaml", folder / f"{name}.xlsx") if p.is_file()]
    if len(forms) == 2:
        a, b = (load_rules(p) for p in forms)
        if not same_plan(a.rules, b.rules):
            raise WeiwenError(
                f"{forms[0]} 和 {forms[1]} 都是活动“{name}”的方案，但内容不一致（可能改了一个没改另一个）。"
                "请删除不用的那个，或用 --rules 指明用哪一个。",
                code="campaign-ambiguous",
            )
    if forms:
        return forms[0]
    shipped = bundled_rules()
    for suffix in (".yaml", ".xlsx"):
        bundled = shipped / f"{name}{suffix}"
        if bundled.is_file():
            return bundled
    here = folder / f"{name}.yaml"
    known = sorted({p.stem for d in (folder, shipped) if d.is_dir() for p in d.iterdir()
                    if p.suffix in (".yaml", ".xlsx") and not p.name.startswith(("~$", ".~lock"))})
    raise WeiwenError(
        f"找不到活动“{name}”的方案（找过 {here}、{here.with_suffix('.xlsx')} 和自带示例）。"
        + (f"已有的活动：{'、'.join(known)}。" if known else ""),
        code="campaign-not-found",
    )


def is_plan_workbook(path: Path) -> bool:
    """A plan written as a workbook: by its extension, or (a renamed file) by its first bytes."""
    if path.suffix.lower() in PLAN_SUFFIXES:
        return True
    if path.suffix.lower() in RULES_SUFFIXES:
        return False
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head.startswith(bytes.fromhex("d0cf11e0a1b11ae1"))


def roster_paths(loaded: LoadedRules, files: list[Path] | None, cwd: Path | None = None) -> list[Path]:
    """The rosters given, or else those the campaign's ``rosters`` glob names (relative to ``cwd``)."""
    if files:
        return list(files)
    pattern = loaded.rules.campaign.rosters
    if not pattern:
        raise WeiwenError("没有指定花名册文件，方案中也没有写花名册位置（方案表格“活动”表的“花名册位置”，"
                          "规则文件的 campaign.rosters）。", code="rosters-missing")
    base = cwd or Path.cwd()
    paths = base.glob(pattern) if not Path(pattern).is_absolute() else Path("/").glob(pattern[1:])
    found = sorted(paths, key=lambda p: natural_key(str(p)))  # 2-李家湾村 before 10-赵寨村
    if not found:
        raise WeiwenError(f"方案中的花名册位置“{pattern}”在 {base} 下没有找到任何文件。", code="rosters-missing")
    return found  # lock files (~$…) included: read.inputs.expand_inputs skips them with a note


def load_rules(path: Path) -> LoadedRules:
    """The plan in ``path``: a YAML rules file or a plan workbook (``is_plan_workbook``)."""
    raw, rules, located = _parse(path)
    excluded = set(_normalize_ids(rules.exclusions.ids))
    if rules.exclusions.ids_file:
        excluded |= _read_ids_file((path.parent / rules.exclusions.ids_file), str(path))
    return LoadedRules(rules=rules, path=path, digest=hashlib.sha256(raw).hexdigest(), excluded_ids=frozenset(excluded),
                       located=located)


def read_plan(path: Path) -> Rules:
    """Only the plan written in ``path`` (no file it names is opened): what a conversion compares."""
    return _parse(path)[1]


def same_plan(a: Rules, b: Rules) -> bool:
    """Do ``a`` and ``b`` describe the same plan?  Equal once every condition is in its canonical
    shape (:func:`weiwen.rules.condtext.canonical`), which is how a workbook writes a YAML plan."""
    return _canonical(a) == _canonical(b)


def _canonical(rules: Rules) -> Rules:
    from weiwen.rules.condtext import canonical

    standards = []
    for s in rules.standards:
        parts = None if s.parts is None else [
            p.model_copy(update={"when": None if p.when is None else canonical(p.when)}) for p in s.parts]
        standards.append(s.model_copy(update={"when": canonical(s.when), "parts": parts}))
    return rules.model_copy(update={"standards": standards})


def _parse(path: Path) -> tuple[bytes, Rules, Locator]:
    if not path.is_file():
        raise WeiwenError(f"找不到规则文件：{path}", code="rules-not-found")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        from weiwen.core.errors import system_reason

        raise WeiwenError(f"无法读取规则文件 {path}：{system_reason(exc)}", code="rules-not-found") from None
    located: Locator
    if is_plan_workbook(path):
        from weiwen.rules.workbook import PlanCellErrors, read_plan_workbook

        try:
            located = read_plan_workbook(path)
        except PlanCellErrors as exc:
            raise RulesError(str(path), exc.messages) from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise WeiwenError(f"规则文件 {path} 不是 UTF-8 编码，请另存为 UTF-8。", code="rules-invalid") from None
        located = YamlPlaces(load_located_yaml(text, str(path)))
        if not isinstance(located.data, dict):
            raise RulesError(str(path), ["文件最外层应是“键: 值”的形式，至少包含 campaign 和 standards。"])
    try:
        rules = Rules.model_validate(located.data)
    except ValidationError as exc:
        raise RulesError(str(path), [_message(e, located) for e in exc.errors(include_input=False)]) from None
    return raw, rules, located


def _normalize_ids(ids: list[str]) -> list[str]:
    from weiwen.core.ids import normalize_id

    return [normalize_id(i)[0] for i in ids if i]


def _read_ids_file(p: Path, origin: str) -> set[str]:
    if not p.is_file():
        raise WeiwenError(f"{origin}：exclusions.ids_file 指向的文件 {p} 不存在。", code="rules-invalid")
    from weiwen.core.ids import normalize_id

    found: set[str] = set()
    for line in p.read_text(encoding="utf-8-sig").splitlines():
        for cell in line.replace("\t", ",").split(","):
            s, _ = normalize_id(cell)
            if len(s) in (15, 18) and s[:-1].isdigit():
                found.add(s)
    return found


_TYPES = {
    "missing": "缺少必填的键“{key}”",
    "decimal_parsing": "“{input}”不是数字",
    "decimal_type": "“{input}”不是数字",
    "int_parsing": "“{input}”不是整数",
    "date_from_datetime_parsing": "“{input}”不是日期，请写成 2027-01-20",
    "date_parsing": "“{input}”不是日期，请写成 2027-01-20",
    "bool_parsing": "“{input}”应为 true 或 false",
    "string_pattern_mismatch": "“{input}”只能包含汉字、字母、数字、- 和 _",
    "list_type": "这里应是一个列表（- 开头的若干行，或 [甲, 乙]）",
    "dict_type": "这里应是“键: 值”的形式",
    "model_type": "这里应是“键: 值”的形式",
    "string_type": "这里应是一段文字",
    "too_short": "至少要写一项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
}


def _message(err: dict[str, Any], located: Locator) -> str:
    loc = tuple(err["loc"])
    place = located.place(loc)
    where = place.zh() if place else "文件中"
    key = str(loc[-1]) if loc else ""
    value = _value_at(located.data, loc)
    kind = err["type"]
    if located.in_workbook:  # the cell is named; the YAML path would mean nothing to its author
        prefix, path = f"{where}：", (place.column if place and place.column else "")
    else:
        path = ".".join(str(p) for p in loc if not isinstance(p, int)) or "(顶层)"
        prefix = f"{where}：{path}"
    if located.in_workbook and loc == ("standards",) and kind == "too_short":
        return f"{where}：至少要写一项标准（代码、名称、对象类别、计发方式、现金）。"
    if kind == "extra_forbidden":
        sugg = fuzz_process.extractOne(key, sorted(ALL_KEYS), score_cutoff=50)
        hint = f"，是不是“{sugg[0]}”？" if sugg else "。"
        return f"{where}：不认识的键“{key}”{hint}（位置 {path}）"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace(" or ", "、").replace("'", "")
        return f"{where}：{path} 的值“{value}”不对，应为 {expected} 之一。"
    if kind == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        if located.in_workbook:
            msg = _in_workbook_words(msg)
            if not loc:  # a check of the whole plan: the cell its words are about
                about = next((at for word, at in _ABOUT if word in msg), None)
                found = located.place(about) if about else None
                prefix = f"{found.zh()}：" if found else prefix
        return f"{prefix}：{msg}。" if not located.in_workbook else f"{prefix}{msg}。"
    template = _TYPES.get(kind)
    if template is not None:
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        text = template.format(key=key, input=value, **ctx)
        return f"{prefix}：{text}。" if not located.in_workbook else f"{prefix}{text}。"
    return f"{where}：{path} 的值“{value}”无效（{kind}）。"


# The schema's messages name YAML keys; a workbook's author knows the columns instead.
_WORKBOOK_WORDS = (
    ("goods_once（物资每户只发一次，其余折现金）只用于 per: person 的标准", "“物资只发一次”只用于计发方式为“按人”的标准"),
    ("per: member 已按人口数计算，不能再按 household_size 分档", "计发方式“按户人口”已按人口数计算，不能再按户人口数分档"),
    ("档次至少要写 cash 或 goods", "这一档要写“现金”，或在物资表列出物资"),
    ("档次的 min", "这一档的下限"), ("大于 max", "大于上限"),
    ("stated 至少要写 count（方案写的人数或户数）或 total（方案写的小计金额）之一", "“方案人数”和“方案小计”至少填一项"),
    ("combination.scope: person（按人比较最高标准）时，参与比较的标准都要按人计发（per: person）",
     "比较范围为“按人”时，参与比较的标准都要按人计发"),
    ("combination.scope: person 时参与比较的标准不能用 goods_once（物资每户只发一次）",
     "比较范围为“按人”时，参与比较的标准不能用“物资只发一次”"),
    ("combination.order 中的", "“优先顺序”中的"),
    ("effective_from 晚于 effective_to", "开始日期晚于结束日期"),
    ("unit（取整单位）只能是 1（到元）或 10（到十元）", "分片取整只能是到元或到十元"),
    ("按比例分配（by: weights）至少要列出两个部分及其比例，例如 大鱼片: 1.3 和 春华片: 1",
     "分片方式为按比例时，“分片”表至少要写两个片区及其比例"),
    ("by: village_households 按各村核定户数分配，不需要写 parts", "分片方式为按各村户数时，“分片”表不用填"),
)


_ABOUT = (("比较范围", ("combination", "scope")), ("优先顺序", ("combination", "order")), ("标准代码", ("standards",)))


def _in_workbook_words(msg: str) -> str:
    for yaml_words, cell_words in _WORKBOOK_WORDS:
        msg = msg.replace(yaml_words, cell_words)
    return msg


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return ""
    return data if isinstance(data, str) else ""


def plan_for(campaign: str | None, rules: Path | None) -> LoadedRules:
    """The rules of ``--campaign`` (rules/活动名.yaml, else the bundled example) or of ``--rules``: one of them."""
    if (campaign is None) == (rules is None):
        raise WeiwenError("请用 --campaign 指定活动，或用 --rules 指定规则文件（二者选一）。")
    return load_rules(rules if rules is not None else find_campaign(campaign))  # type: ignore[arg-type]
