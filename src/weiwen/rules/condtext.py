"""Conditions written in one spreadsheet cell, read and written (pure).

The plan workbook's 其他条件 column holds a condition as a clerk would write it::

    年龄≥80
    60≤年龄<80
    类别=三无人员、残疾人 或 残疾等级≤2
    户人口≥3 且 非 村=李家湾村
    列【家庭人均收入】<1290 且 列【困难原因】=患病、残疾

This module turns such text into the plain data of :class:`weiwen.rules.schema.Condition`
(validated by pydantic afterwards, like a YAML rules file) and a ``Condition`` back into text.
The text is parsed by a small recursive-descent parser over a fixed grammar; nothing in it is
ever evaluated.  ``docs/plan-workbook.md`` documents the grammar for clerks:

* a comparison: ``名称 比较 值``. 名称 is 类别, 年龄, 性别, 残疾等级, 户人口, 村, 乡镇, 与户主关系, or a
  roster column written 列【列名】.  比较 is ``=`` for every name and ``< ≤ > ≥`` (or ``<= >=``) for
  年龄, 残疾等级, 户人口 and columns.  Several values after ``=`` are separated by 、 and mean "any of".
* a range: ``60≤年龄<80`` (the smaller number first);
* ``非`` before a comparison or a bracket negates it; ``且`` binds tighter than ``或``;
  brackets ``（）`` or ``()`` group.

Full-width and half-width signs are the same; spaces are ignored; 岁, 人 and 级 after a number
are allowed (``年龄≥80岁``).  ``全部`` alone means every line of the list (``listed: true``).

Length: the parser, the renderer and the canonical form are one grammar read and written; apart,
a change to one would not be seen by the others (the round trip is tested as one).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from weiwen.rules.schema import Condition, Range

# The names a comparison may use, and the Condition key each one means.
FIELDS = {"类别": "category", "年龄": "age", "性别": "sex", "残疾等级": "disability_grade", "户人口": "household_size",
          "村": "village", "乡镇": "township", "与户主关系": "relation"}
SYNONYMS = {"户人口数": "户人口", "人口": "户人口", "家庭人口": "户人口", "村（社区）": "村", "村(社区)": "村", "社区": "村",
            "乡镇（街道）": "乡镇", "乡镇(街道)": "乡镇", "街道": "乡镇", "关系": "与户主关系", "残疾级别": "残疾等级",
            "类型": "类别", "人员类别": "类别", "对象类别": "类别"}
FIELD_ZH = {v: k for k, v in FIELDS.items()}
NUMERIC = ("age", "disability_grade", "household_size")
LISTS = ("category", "village", "township", "relation")
VALUE_SEPARATORS = "、，,;；/／"
# Characters a value written in a cell cannot contain (they are the syntax).
RESERVED = frozenset("、，,;；()（）【】[]「」=＝<>＜＞≤≥")
_OPS = (("<=", "lte"), ("＜＝", "lte"), ("≤", "lte"), (">=", "gte"), ("＞＝", "gte"), ("≥", "gte"), ("==", "eq"),
        ("<", "lt"), ("＜", "lt"), (">", "gt"), ("＞", "gt"), ("=", "eq"), ("＝", "eq"))
_SIGN = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
_AND = ("并且", "而且", "且")
_OR = ("或者", "或")
_NOT = "非"
_OPEN = "(（"
_CLOSE = ")）"
_COLUMN_OPEN = {"【": "】", "[": "]", "「": "」"}
_UNITS = "岁人级户"  # 80岁, 80 周岁 (周 is read with 岁, below)


class ConditionSyntaxError(ValueError):
    """The cell's text is not a condition; ``str()`` says what is wrong, in Chinese."""


EVERYONE = "全部"  # every line of the list (各一线单位): the condition ``listed: true``


class NotExpressible(ValueError):
    """A condition the cell syntax has no words for (a YAML-only shape)."""


# --- reading ----------------------------------------------------------------------------------


def parse(text: str) -> dict[str, Any]:
    """The condition written in ``text``, as plain data for ``Condition.model_validate``."""
    p = _Parser(text)
    if not p.text:
        raise ConditionSyntaxError("条件是空的")
    out = p.expr()
    p.skip()
    if p.at < len(p.text):
        rest = p.text[p.at:]
        if rest[0] in _CLOSE:
            raise ConditionSyntaxError(f"多了一个右括号“{rest[0]}”")
        if rest.startswith((*_AND, *_OR)):
            word = next(w for w in (*_AND, *_OR) if rest.startswith(w))
            if not rest[len(word):].strip():
                raise ConditionSyntaxError(f"条件没写完：“{word}”后面要接一个条件")
            p.at += len(word)
            p.name()  # names what follows the connector when it is not a condition
        raise ConditionSyntaxError(f"看不懂“{_clip(rest)}”：两个条件之间要写“且”或“或”")
    return out


def parse_values(text: str) -> list[str]:
    """A list written in one cell: 低保、特困 (also ，,；/)."""
    parts = re.split(f"[{re.escape(VALUE_SEPARATORS)}]", text)
    return [s.strip() for s in parts if s.strip()]


class _Parser:
    def __init__(self, text: str):
        self.text = text.replace("\u3000", " ").strip()
        self.at = 0

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def peek_word(self, words: tuple[str, ...]) -> str | None:
        self.skip()
        return next((w for w in words if self.text.startswith(w, self.at)), None)

    def expr(self) -> dict[str, Any]:
        terms = [self.term()]
        while (w := self.connector(_OR)) is not None:
            self.at += len(w)
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else {"any": terms}

    def term(self) -> dict[str, Any]:
        factors = [self.factor()]
        while (w := self.connector(_AND)) is not None:
            self.at += len(w)
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else {"all": factors}

    def connector(self, words: tuple[str, ...]) -> str | None:
        w = self.peek_word(words)
        return w if w is not None and self.starts_term(self.at + len(w)) else None

    def starts_term(self, at: int) -> bool:
        rest = self.text[at:].lstrip()
        if not rest:
            return False
        if rest[0] in _OPEN or rest[0] in _COLUMN_OPEN or rest.startswith((_NOT, "列", EVERYONE)):
            return True
        if re.match(r"[0-9.]+\s*[<＜≤]", rest):
            return True
        return any(rest.startswith(n) for n in (*FIELDS, *SYNONYMS))

    def factor(self) -> dict[str, Any]:
        self.skip()
        if self.at >= len(self.text):
            raise ConditionSyntaxError("条件没写完：“且”“或”“非”后面要接一个条件")
        ch = self.text[self.at]
        if self.text.startswith(_NOT, self.at):
            self.at += 1
            return {"not": self.factor()}
        if ch in _OPEN:
            self.at += 1
            inner = self.expr()
            self.skip()
            if self.at >= len(self.text) or self.text[self.at] not in _CLOSE:
                raise ConditionSyntaxError("括号没有配对：“（”要有对应的“）”")
            self.at += 1
            return inner
        if ch in _CLOSE:
            raise ConditionSyntaxError(f"多了一个右括号“{ch}”")
        if self.text.startswith(EVERYONE, self.at):
            self.at += len(EVERYONE)
            return {"listed": True}
        return self.comparison()

    def comparison(self) -> dict[str, Any]:
        low = re.match(r"([0-9]+(?:\.[0-9]+)?)\s*[岁人级户]?\s*(<=|＜＝|≤|<|＜)", self.text[self.at:])
        if low is not None:  # 60≤年龄<80
            self.at += low.end()
            key, column = self.name()
            if key not in (*NUMERIC, "column"):
                raise ConditionSyntaxError(f"“{FIELD_ZH.get(key, key)}”不能写成范围，只能写“=”")
            op = self.operator()
            if op not in ("lt", "lte"):
                raise ConditionSyntaxError("范围要从小写到大，例如“60≤年龄<80”")
            bounds = {("gte" if low.group(2) in ("<=", "＜＝", "≤") else "gt"): _number(low.group(1)),
                      op: self.number()}
            return self.leaf(key, column, bounds)
        key, column = self.name()
        op = self.operator()
        if key in (*NUMERIC,) or (key == "column" and op != "eq"):
            return self.leaf(key, column, {op: self.number()})
        if op != "eq":
            raise ConditionSyntaxError(f"“{FIELD_ZH.get(key, key)}”只能写“=”，例如“{FIELD_ZH.get(key, key)}=…”")
        raw = self.value()
        values = parse_values(raw)
        spaced = next((v for v in values if re.search(r"\s", v)), None)
        if spaced is not None:
            words = spaced.split()
            joint = next((w for w in words if w in (*_AND, *_OR)), None)
            if joint is not None:
                name = FIELD_ZH.get(key, "列【…】")
                raise ConditionSyntaxError(
                    f"“{spaced}”中的“{joint}”后面没有写名称：几个值之一请用顿号分开（{name}={'、'.join(w for w in words if w != joint)}），"
                    f"两个条件之间的“{joint}”后面要再写名称（{name}={words[0]} {joint} {name}={words[-1]}）")
            raise ConditionSyntaxError(f"值“{spaced}”中间有空格：几个值请用顿号分开，例如“{'、'.join(words)}”")
        if not values:
            raise ConditionSyntaxError(f"“{FIELD_ZH.get(key, '列')}=”后面没有写值")
        if key == "column":
            return {"column": column, "equals": values[0]} if len(values) == 1 else {"column": column, "in": values}
        if key == "sex":
            if len(values) != 1:
                raise ConditionSyntaxError("性别只能写一个：性别=男 或 性别=女")
            return {"sex": values[0]}
        return {key: values}

    def leaf(self, key: str, column: str | None, bounds: dict[str, str]) -> dict[str, Any]:
        if key == "column":
            if "eq" in bounds:
                raise ConditionSyntaxError("内部错误")  # pragma: no cover - eq of a column is text, read above
            return {"column": column, **bounds}
        return {key: bounds}

    def name(self) -> tuple[str, str | None]:
        self.skip()
        rest = self.text[self.at:]
        if rest.startswith("列"):
            self.at += 1
            self.skip()
            opening = self.text[self.at:self.at + 1]
            closing = _COLUMN_OPEN.get(opening)
            if closing is None:
                raise ConditionSyntaxError("花名册的列要写成 列【列名】，例如“列【家庭人均收入】<1290”")
            end = self.text.find(closing, self.at + 1)
            if end < 0:
                raise ConditionSyntaxError(f"列名的括号没有配对：“{opening}”要有对应的“{closing}”")
            column = self.text[self.at + 1:end].strip()
            if not column:
                raise ConditionSyntaxError("列【】里要写花名册的列名")
            self.at = end + 1
            return "column", column
        for name in sorted((*FIELDS, *SYNONYMS), key=len, reverse=True):
            if rest.startswith(name):
                self.at += len(name)
                return FIELDS[SYNONYMS.get(name, name)], None
        word = re.match(r"[^=＝<>＜＞≤≥\s]*", rest).group(0)  # type: ignore[union-attr]
        from rapidfuzz import process as fuzz_process

        near = fuzz_process.extractOne(word, list(FIELDS), score_cutoff=40) if word else None
        hint = f"，是不是“{near[0]}”？" if near else "。"
        names = "、".join(FIELDS)
        raise ConditionSyntaxError(f"不认识“{_clip(word or rest)}”{hint}条件可用的名称：{names}，或 列【花名册列名】")

    def operator(self) -> str:
        self.skip()
        for sign, op in _OPS:
            if self.text.startswith(sign, self.at):
                self.at += len(sign)
                return op
        got = self.text[self.at:self.at + 1]
        if not got:
            raise ConditionSyntaxError("名称后面要写比较符号和数值，例如“年龄≥80”；范围写成“60≤年龄<80”（小的数在前）")
        raise ConditionSyntaxError(f"名称后面要写比较符号 =、<、≤、>、≥，这里是“{got}”")

    def number(self) -> str:
        self.skip()
        m = re.match(r"[0-9]+(?:\.[0-9]+)?", self.text[self.at:])
        if m is None:
            raise ConditionSyntaxError(f"比较符号后面要写数字，这里是“{_clip(self.text[self.at:]) or '（空）'}”")
        self.at += m.end()
        unit = re.match(f"\\s*(?:周岁|[{_UNITS}](?!人口))", self.text[self.at:])  # 80岁, 80 周岁; not the 户 of 户人口
        if unit is not None:
            self.at += unit.end()
        return m.group(0)

    def value(self) -> str:
        """Text after '=': up to a connector that starts another condition, a closing bracket or the end."""
        self.skip()
        start = self.at
        while self.at < len(self.text):
            ch = self.text[self.at]
            if ch in _CLOSE:
                break
            if ch in "=＝<>＜＞≤≥()（【】[]「」":
                said = self.text[start:self.at]
                joint = list(re.finditer(r"\s*(并且|而且|或者|且|或)\s*", said))
                if joint:  # 三无人员 或 岁数>3: the name after 或 is what is wrong
                    self.at = start + joint[-1].end()
                    self.name()
                raise ConditionSyntaxError(f"值里不能有“{ch}”；两个条件之间要写“且”或“或”")
            if ch.isspace() or self.text.startswith((*_AND, *_OR), self.at):
                save = self.at
                if self.connector(_AND) is not None or self.connector(_OR) is not None:
                    self.at = save
                    break
                self.at = save
            self.at += 1
        return self.text[start:self.at].strip()


def _number(text: str) -> str:
    return text


def _clip(s: str, n: int = 12) -> str:
    s = s.strip()
    return s if len(s) <= n else s[:n] + "…"


# --- writing ----------------------------------------------------------------------------------


def render(cond: Condition) -> str:
    """``cond`` as cell text that :func:`parse` reads back to the same condition.

    Raises :class:`NotExpressible` for the shapes the cell syntax lacks (a range with two lower
    bounds, ``eq`` beside another bound, a column compared both as text and as a number)."""
    return _render(cond, 0)


def _render(cond: Condition, outer: int) -> str:
    kind = cond.kind()
    if kind in ("all", "any"):
        level = 2 if kind == "all" else 1
        children = (cond.all if kind == "all" else cond.any) or []
        joined = (" 且 " if kind == "all" else " 或 ").join(_render(c, level) for c in children)
        return f"（{joined}）" if outer > level and len(children) > 1 else joined
    if kind == "not":
        assert cond.not_ is not None
        inner = cond.not_
        text = _render(inner, 3)
        if inner.kind() in ("all", "any") and len((inner.all if inner.kind() == "all" else inner.any) or []) == 1:
            text = f"（{text}）"
        return f"非 {text}"
    if kind == "listed":
        return EVERYONE
    if kind in LISTS:
        return f"{FIELD_ZH[kind]}={_values(getattr(cond, kind))}"
    if kind == "sex":
        return f"性别={_value(cond.sex or '')}"
    if kind in NUMERIC:
        return _range(FIELD_ZH[kind], getattr(cond, kind))
    assert cond.column is not None
    _value(cond.column, what="列名", allow_number=True)
    name = f"列【{cond.column}】"
    text_cmp = cond.equals is not None or cond.within is not None
    numeric = any(getattr(cond, a) is not None for a in _SIGN)
    if text_cmp and numeric or (cond.equals is not None and cond.within is not None):
        raise NotExpressible(f"列“{cond.column}”同时按文字和数字比较，表格中无法写出；请拆成两个条件")
    if cond.equals is not None:
        return f"{name}={_value(cond.equals, allow_number=True)}"
    if cond.within is not None:
        if len(cond.within) == 1:
            return f"{name}={_value(cond.within[0], allow_number=True)}"
        return f"{name}={_values(cond.within, allow_number=True)}"
    return _range(name, cond)


def _range(name: str, rng: Range | Condition) -> str:
    bounds = {a: getattr(rng, a) for a in ("lt", "lte", "gt", "gte", "eq") if getattr(rng, a, None) is not None}
    if "eq" in bounds:
        if len(bounds) > 1:
            raise NotExpressible(f"“{name}”的等于条件旁又写了范围，表格中无法写出")
        return f"{name}={_num(bounds['eq'])}"
    lows = [a for a in ("gt", "gte") if a in bounds]
    highs = [a for a in ("lt", "lte") if a in bounds]
    if len(lows) > 1 or len(highs) > 1:
        raise NotExpressible(f"“{name}”写了两个下限或两个上限，表格中无法写出")
    if lows and highs:
        low = "<" if lows[0] == "gt" else "≤"
        return f"{_num(bounds[lows[0]])}{low}{name}{_SIGN[highs[0]]}{_num(bounds[highs[0]])}"
    a = (lows or highs)[0]
    return f"{name}{_SIGN[a]}{_num(bounds[a])}"


def _num(d: Decimal) -> str:
    try:
        text = format(d.normalize(), "f")
    except InvalidOperation:  # pragma: no cover - the schema admits finite numbers only
        raise NotExpressible(str(d)) from None
    if text.startswith("-"):
        raise NotExpressible(f"负数 {text} 无法写在条件里")
    return text


def _values(values: list[str] | None, allow_number: bool = False) -> str:
    return "、".join(_value(v, allow_number=allow_number) for v in values or [])


def _value(v: str, what: str = "值", allow_number: bool = False) -> str:
    bad = sorted({c for c in v if c in RESERVED})
    if bad or not v.strip() or v != v.strip():
        raise NotExpressible(f"{what}“{v}”含有条件写法用到的符号（{''.join(bad) or '空格'}），表格中无法写出")
    if any(w in v for w in ("且", "或")) and _looks_like_connector(v):
        raise NotExpressible(f"{what}“{v}”中的“且”“或”会被读成连接词，表格中无法写出")
    if not allow_number and re.fullmatch(r"[0-9.]+", v):
        raise NotExpressible(f"{what}“{v}”是纯数字，表格中无法写出")
    return v


def _looks_like_connector(v: str) -> bool:
    probe = _Parser(f"类别={v}")
    probe.at = 3
    probe.value()
    return probe.text[probe.at:].strip() != ""


def join_values(values: list[str]) -> str:
    """Names written in one cell (对象类别, 别名): 低保、特困; refuses a name the cell cannot hold."""
    return _values(values)


# --- sameness -----------------------------------------------------------------------------------


def canonical(cond: Condition) -> Condition:
    """``cond`` in the one shape both forms of a plan agree on: nested 且 (or 或) flattened, a group
    of one unwrapped, a column's ``in`` of one value written as ``equals``.  Each change keeps
    the meaning: the engine evaluates both shapes alike."""
    kind = cond.kind()
    if kind in ("all", "any"):
        flat: list[Condition] = []
        for child in (cond.all if kind == "all" else cond.any) or []:
            c = canonical(child)
            flat.extend((c.all if kind == "all" else c.any) or [] if c.kind() == kind else [c])
        if len(flat) == 1:
            return flat[0]
        return Condition(all=flat) if kind == "all" else Condition(any=flat)
    if kind == "not":
        assert cond.not_ is not None
        return Condition(**{"not": canonical(cond.not_)})
    if kind == "column" and cond.within is not None and len(cond.within) == 1:
        return cond.model_copy(update={"within": None, "equals": cond.within[0]})
    return cond
