"""Loading campaign rules: YAML with line numbers → validated :class:`Rules`.

Every mistake in a rules file is reported with its line, its key and, for a misspelt key,
the key that was probably meant — all at once, in Chinese.  Nothing in a rules file is ever
evaluated as code.
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
from weiwen.core.yamlio import Located, load_located_yaml
from weiwen.read.inputs import natural_key


def bundled_rules() -> Path:
    """The example campaigns shipped with weiwen: the top-level rules/ folder of a checkout (or an
    editable install), copied into an installed package as weiwen/bundled_rules/ (see setup.py)."""
    installed = Path(__file__).resolve().parents[1] / "bundled_rules"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / "rules"


class RulesError(WeiwenError):
    def __init__(self, path: str, messages: list[str]):
        self.messages = messages
        body = "\n".join(f"  - {m}" for m in messages)
        super().__init__(f"规则文件 {path} 有 {len(messages)} 处错误：\n{body}", code="rules-invalid")


@dataclass(frozen=True)
class LoadedRules:
    rules: Rules
    path: Path
    digest: str  # sha256 of the file's bytes: which rules produced an output
    excluded_ids: frozenset[str]
    located: Located | None = None  # line numbers, for lint messages


def with_campaign_categories(vocab: Vocabulary, loaded: LoadedRules) -> Vocabulary:
    """``vocab`` extended by the categories the rules file declares (extending twice changes nothing)."""
    return extend_categories(vocab, {name: (d.parent, d.aliases) for name, d in loaded.rules.categories.items()})


def campaign_vocabulary(loaded: LoadedRules, aliases: Path | None = None, cwd: Path | None = None) -> Vocabulary:
    """The one vocabulary of a campaign: the bundled one, ``./weiwen-aliases.yaml``, ``aliases`` and
    the categories the rules file declares.  Every command and library caller uses this."""
    return with_campaign_categories(load_vocabulary(aliases, cwd=cwd), loaded)


def find_campaign(name: str, cwd: Path | None = None) -> Path:
    """``--campaign NAME``: ``rules/NAME.yaml`` in the working directory, then the bundled examples."""
    here = (cwd or Path.cwd()) / "rules" / f"{name}.yaml"
    if here.is_file():
        return here
    shipped = bundled_rules()
    bundled = shipped / f"{name}.yaml"
    if bundled.is_file():
        return bundled
    known = sorted({p.stem for d in (here.parent, shipped) if d.is_dir() for p in d.glob("*.yaml")})
    raise WeiwenError(
        f"找不到活动“{name}”的规则文件（找过 {here} 和自带示例）。" + (f"已有的活动：{'、'.join(known)}。" if known else ""),
        code="campaign-not-found",
    )


def roster_paths(loaded: LoadedRules, files: list[Path] | None, cwd: Path | None = None) -> list[Path]:
    """The rosters given, or else those the campaign's ``rosters`` glob names (relative to ``cwd``)."""
    if files:
        return list(files)
    pattern = loaded.rules.campaign.rosters
    if not pattern:
        raise WeiwenError("没有指定花名册文件，规则文件中也没有 campaign.rosters。", code="rosters-missing")
    base = cwd or Path.cwd()
    paths = base.glob(pattern) if not Path(pattern).is_absolute() else Path("/").glob(pattern[1:])
    found = sorted(paths, key=lambda p: natural_key(str(p)))  # 2-李家湾村 before 10-赵寨村
    if not found:
        raise WeiwenError(f"规则文件 campaign.rosters 的“{pattern}”在 {base} 下没有找到任何文件。", code="rosters-missing")
    return found  # lock files (~$…) included: read.inputs.expand_inputs skips them with a note


def load_rules(path: Path) -> LoadedRules:
    if not path.is_file():
        raise WeiwenError(f"找不到规则文件：{path}", code="rules-not-found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WeiwenError(f"规则文件 {path} 不是 UTF-8 编码，请另存为 UTF-8。", code="rules-invalid") from None
    located = load_located_yaml(text, str(path))
    if not isinstance(located.data, dict):
        raise RulesError(str(path), ["文件最外层应是“键: 值”的形式，至少包含 campaign 和 standards。"])
    try:
        rules = Rules.model_validate(located.data)
    except ValidationError as exc:
        raise RulesError(str(path), [_message(e, located) for e in exc.errors(include_input=False)]) from None
    excluded = set(_normalize_ids(rules.exclusions.ids))
    if rules.exclusions.ids_file:
        excluded |= _read_ids_file((path.parent / rules.exclusions.ids_file), str(path))
    return LoadedRules(rules=rules, path=path, digest=hashlib.sha256(raw).hexdigest(), excluded_ids=frozenset(excluded),
                       located=located)


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
    "string_pattern_mismatch": "“{input}”只能包含英文字母、数字、- 和 _",
    "list_type": "这里应是一个列表（- 开头的若干行，或 [甲, 乙]）",
    "dict_type": "这里应是“键: 值”的形式",
    "model_type": "这里应是“键: 值”的形式",
    "string_type": "这里应是一段文字",
    "too_short": "至少要写一项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
}


def _message(err: dict[str, Any], located: Located) -> str:
    loc = tuple(err["loc"])
    line = located.line_of(loc)
    where = f"第 {line} 行" if line else "文件中"
    path = ".".join(str(p) for p in loc if not isinstance(p, int)) or "(顶层)"
    kind = err["type"]
    key = str(loc[-1]) if loc else ""
    value = _value_at(located.data, loc)
    if kind == "extra_forbidden":
        sugg = fuzz_process.extractOne(key, sorted(ALL_KEYS), score_cutoff=50)
        hint = f"，是不是“{sugg[0]}”？" if sugg else "。"
        return f"{where}：不认识的键“{key}”{hint}（位置 {path}）"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace(" or ", "、").replace("'", "")
        return f"{where}：{path} 的值“{value}”不对，应为 {expected} 之一。"
    if kind == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        return f"{where}：{path}：{msg}。"
    template = _TYPES.get(kind)
    if template is not None:
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        return f"{where}：{path}：" + template.format(key=key, input=value, **ctx) + "。"
    return f"{where}：{path} 的值“{value}”无效（{kind}）。"


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
