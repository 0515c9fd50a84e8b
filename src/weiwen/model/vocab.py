"""The vocabularies: header aliases, category aliases and coded values.

Bundled in ``weiwen/data/*.yaml``; a user extends them with a YAML file of the same shape
(``weiwen-aliases.yaml`` in the working directory, or ``--aliases FILE``).  Extensions add
aliases and categories; they never remove bundled ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import process as fuzz_process

from weiwen.core.errors import WeiwenError
from weiwen.core.text import header_key, squash
from weiwen.core.yamlio import load_text_yaml

USER_ALIASES_FILE = "weiwen-aliases.yaml"

# A category cell may hold several categories: 低保、残疾人 / 低保,残疾人 / 低保；残疾人 …
_HEADER_NOTE = re.compile(r"[（(【\[][^（）()【】\[\]]*[）)】\]]")
CATEGORY_SPLIT = re.compile(r"[、，,;；/／|\s]+")
FLAG_HEADER = re.compile(r"^(?:是否(?:为|属于|是)?)(.+?)(?:对象|人员)?$")


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    aliases: tuple[str, ...]
    fallback_aliases: tuple[str, ...] = ()  # used only when no column has one of the aliases


@dataclass
class Vocabulary:
    fields: dict[str, Field]
    header_index: dict[str, str]  # header key -> field key
    fallback_index: dict[str, str]  # header key -> field key, for a table without the field's usual column
    footer_markers: tuple[str, ...]
    categories: dict[str, str | None]  # canonical name -> parent
    category_index: dict[str, str]  # squashed alias -> canonical name
    sex_index: dict[str, str]
    yes: frozenset[str]
    no: frozenset[str]
    relation_index: dict[str, str]
    sources: list[str] = field(default_factory=list)

    # --- headers ------------------------------------------------------------------
    def field_for_header(self, header: str) -> str | None:
        """The field a header names; a note in brackets (身份证号码（必填）, 类别（可多选）) is set aside
        when the header with it is no known alias."""
        found = self.header_index.get(header_key(header))
        if found is None and ("（" in header or "(" in header or "【" in header or "[" in header):
            bare = _HEADER_NOTE.sub("", header)
            if bare and bare != header:
                found = self.header_index.get(header_key(bare))
        return found

    def fallback_field_for_header(self, header: str) -> str | None:
        return self.fallback_index.get(header_key(header))

    def flag_category(self, header: str) -> str | None:
        """``是否低保`` → ``低保``: a yes/no column for one category."""
        m = FLAG_HEADER.match(squash(header))
        if not m:
            return None
        return self.category(m.group(1)) or self.category(m.group(0)[2:])

    def label(self, key: str) -> str:
        return self.fields[key].label

    # --- values -------------------------------------------------------------------
    def category(self, token: str) -> str | None:
        return self.category_index.get(squash(token).upper())

    def split_categories(self, cell: str) -> list[str]:
        return [t for t in CATEGORY_SPLIT.split(cell.strip()) if t]

    def suggest_categories(self, token: str, limit: int = 3) -> list[str]:
        choices = list(self.category_index.keys())
        found = fuzz_process.extract(squash(token).upper(), choices, limit=limit * 3, score_cutoff=40)
        out: list[str] = []
        for alias, _score, _ in found:
            name = self.category_index[alias]
            if name not in out:
                out.append(name)
        return out[:limit]

    def ancestors(self, category: str) -> list[str]:
        """The category and every parent above it."""
        out = [category]
        parent = self.categories.get(category)
        while parent and parent not in out:
            out.append(parent)
            parent = self.categories.get(parent)
        return out

    def sex(self, value: str) -> str | None:
        return self.sex_index.get(squash(value).upper())

    def flag(self, value: str) -> bool | None:
        v = squash(value).upper()
        if v in self.yes:
            return True
        if v in self.no or v == "":
            return False
        return None

    def relation(self, value: str) -> str | None:
        return self.relation_index.get(squash(value))


def _bundled(name: str) -> Any:
    with resources.as_file(resources.files("weiwen.data") / name) as p:
        return load_text_yaml(Path(p))


def load_vocabulary(extra: Path | None = None, cwd: Path | None = None) -> Vocabulary:
    """Bundled vocabularies, extended by ``./weiwen-aliases.yaml`` and ``extra``."""
    docs = [("headers.yaml", _bundled("headers.yaml")), ("categories.yaml", _bundled("categories.yaml")),
            ("values.yaml", _bundled("values.yaml"))]
    sources = ["(内置)"]
    local = (cwd or Path.cwd()) / USER_ALIASES_FILE
    for path in (local if local.is_file() else None, extra):
        if path is None:
            continue
        if not path.is_file():
            raise WeiwenError(f"找不到别名文件：{path}", code="aliases-not-found")
        docs.append((str(path), load_text_yaml(path)))
        sources.append(str(path))

    fields: dict[str, Field] = {}
    footer: list[str] = []
    categories: dict[str, str | None] = {}
    cat_aliases: dict[str, list[str]] = {}
    sex: dict[str, list[str]] = {}
    yes: set[str] = set()
    no: set[str] = set()
    relations: dict[str, list[str]] = {}
    for origin, doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise WeiwenError(f"{origin}：文件最外层应是“键: 值”的形式。", code="aliases-invalid")
        unknown = set(doc) - {"fields", "footer_markers", "categories", "sex", "yes_values", "no_values", "relations"}
        if unknown:
            raise WeiwenError(
                f"{origin}：不认识的键 {'、'.join(sorted(unknown))}；可用的键有 fields、categories、sex、"
                "yes_values、no_values、relations、footer_markers。",
                code="aliases-invalid",
            )
        for key, spec in (doc.get("fields") or {}).items():
            spec = spec or {}
            old = fields.get(key)
            if old is None and "label" not in spec:
                raise WeiwenError(f"{origin}：字段 {key} 不是已知字段，需要写 label。", code="aliases-invalid")
            label = spec.get("label", old.label if old else key)
            aliases = tuple(old.aliases if old else ()) + tuple(spec.get("aliases") or ())
            fallback = tuple(old.fallback_aliases if old else ()) + tuple(spec.get("fallback_aliases") or ())
            fields[key] = Field(key, label, aliases, fallback)
        footer.extend(doc.get("footer_markers") or [])
        for name, spec in (doc.get("categories") or {}).items():
            spec = spec or {}
            categories[name] = spec.get("parent", categories.get(name))
            cat_aliases.setdefault(name, []).extend(spec.get("aliases") or [])
        for canon, aliases in (doc.get("sex") or {}).items():
            sex.setdefault(canon, []).extend(aliases or [])
        yes.update(doc.get("yes_values") or [])
        no.update(doc.get("no_values") or [])
        for canon, aliases in (doc.get("relations") or {}).items():
            relations.setdefault(canon, []).extend(aliases or [])

    header_index: dict[str, str] = {}
    for f in fields.values():
        for alias in (f.label, *f.aliases):
            k = header_key(alias)
            prev = header_index.get(k)
            if prev is not None and prev != f.key:
                raise WeiwenError(
                    f"表头别名“{alias}”同时属于字段 {prev} 和 {f.key}，请只保留一处。", code="aliases-invalid"
                )
            header_index[k] = f.key
    fallback_index: dict[str, str] = {}
    for f in fields.values():
        for alias in f.fallback_aliases:
            k = header_key(alias)
            if header_index.get(k, f.key) != f.key or fallback_index.get(k, f.key) != f.key:
                raise WeiwenError(f"表头别名“{alias}”同时属于两个字段，请只保留一处。", code="aliases-invalid")
            fallback_index[k] = f.key
    category_index: dict[str, str] = {}
    for name, aliases in cat_aliases.items():
        for alias in (name, *aliases):
            k = squash(alias).upper()
            prev = category_index.get(k)
            if prev is not None and prev != name:
                raise WeiwenError(f"类别别名“{alias}”同时属于类别 {prev} 和 {name}，请只保留一处。", code="aliases-invalid")
            category_index[k] = name
    for name, parent in categories.items():
        if parent is not None and parent not in categories:
            raise WeiwenError(f"类别 {name} 的上级类别 {parent} 不存在。", code="aliases-invalid")
    return Vocabulary(
        fields=fields,
        header_index=header_index,
        fallback_index=fallback_index,
        footer_markers=tuple(footer),
        categories=categories,
        category_index=category_index,
        sex_index={squash(a).upper(): canon for canon, al in sex.items() for a in (canon, *al)},
        yes=frozenset(squash(v).upper() for v in yes),
        no=frozenset(squash(v).upper() for v in no),
        relation_index={squash(a): canon for canon, al in relations.items() for a in (canon, *al)},
        sources=sources,
    )


def extend_categories(vocab: Vocabulary, extra: dict[str, tuple[str | None, list[str]]]) -> Vocabulary:
    """A copy of ``vocab`` with the categories a rules file declares (name -> (parent, aliases))."""
    if not extra:
        return vocab
    categories = dict(vocab.categories)
    index = dict(vocab.category_index)
    for name, (parent, aliases) in extra.items():
        if parent is not None and parent not in categories and parent not in extra:
            raise WeiwenError(f"规则文件中类别 {name} 的上级类别 {parent} 不存在。", code="rules-invalid")
        categories[name] = parent if parent is not None else categories.get(name)
        for alias in (name, *aliases):
            k = squash(alias).upper()
            if index.get(k, name) != name:
                raise WeiwenError(f"规则文件中的类别别名“{alias}”已属于类别 {index[k]}。", code="rules-invalid")
            index[k] = name
    return replace(vocab, categories=categories, category_index=index)
