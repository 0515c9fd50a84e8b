"""Synthetic rosters for demos, tests and benchmarks — never real personal data.

``generate(...)`` builds households of plausible persons (valid check characters, real
county codes, names from common characters) and, at ``error_rate``, plants the mistakes real
rosters have; each planted mistake is recorded so tests can check that validation finds it.
Writing the workbooks is :mod:`weiwen.sheets.demo_book`'s job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from weiwen.core.ids import check_digit

# Fixed, so generated rosters do not change with the day they are made.
REFERENCE_DATE = date(2026, 1, 1)
COUNTIES = ("410526", "410527", "411721", "420281", "430124", "341221", "371526", "510922", "130632", "622421")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰文辉志红梅金凤春花德福海燕保国永胜淑珍桂芝秀珍凤英玉珍兰英"
VILLAGE_HEADS = ("张庄", "李家湾", "王楼", "刘集", "陈营", "杨树岭", "黄土坡", "赵寨", "前进", "红星", "东关", "西街",
                 "南岗", "北坡", "河湾", "柳林", "石桥", "新华", "和平", "枣园")
VILLAGE_TAILS = ("村", "村", "村", "社区")

# (category cell, weight, disability grade for the listed person or None)
HOUSEHOLD_TYPES: tuple[tuple[str, int], ...] = (
    ("低保", 30), ("低保边缘", 12), ("特困", 8), ("困难家庭", 12), ("三属", 3), ("伤残军人", 3),
    ("在乡复员军人", 3), ("现役军人家属", 5), ("低保、现役军人家属", 3), ("残疾人", 8), ("低保、残疾人", 6),
    ("特别贫困家庭", 4), ("孤儿", 1), ("高龄老人", 2),
)
RELATIONS_BY_ROLE = {"spouse": "配偶", "child": ("子", "女", "儿子", "女儿"), "parent": ("父亲", "母亲"),
                     "grandchild": ("孙子", "孙女")}

ERROR_KINDS = (
    "id-numeric-cell", "id-checksum", "id-birthdate-implausible", "id-normalized-fullwidth",
    "id-normalized-lower-x", "category-unknown", "household-multiple-heads", "name-missing", "sex-mismatch",
)


@dataclass
class Person:
    name: str
    id_number: str
    sex: str
    relation: str
    categories: str = ""
    disability_grade: str = ""
    phone: str = ""
    bank_card: str = ""
    bank_name: str = ""
    id_as_number: bool = False  # planted: the ID cell is written as a number
    planted: str | None = None  # the mistake planted in this row, if any


@dataclass
class Household:
    number: str
    address: str
    size: int
    members: list[Person] = field(default_factory=list)


@dataclass
class Village:
    name: str
    township: str
    households: list[Household] = field(default_factory=list)

    @property
    def persons(self) -> int:
        return sum(len(h.members) for h in self.households)


def village_names(count: int, rng: random.Random) -> list[str]:
    names: list[str] = []
    i = 0
    while len(names) < count:
        head = VILLAGE_HEADS[i % len(VILLAGE_HEADS)]
        tail = VILLAGE_TAILS[(i // len(VILLAGE_HEADS)) % len(VILLAGE_TAILS)]
        suffix = "" if i < len(VILLAGE_HEADS) * len(VILLAGE_TAILS) else str(i // (len(VILLAGE_HEADS) * 4) + 1)
        name = f"{head}{suffix}{tail}"
        if name not in names:
            names.append(name)
        i += 1
    rng.shuffle(names)
    return names


def generate(households: int, villages: int, seed: int, error_rate: float = 0.0,
             township: str = "城关镇") -> list[Village]:
    """``households`` households spread over ``villages`` villages, reproducible for a seed."""
    rng = random.Random(seed)
    county = COUNTIES[seed % len(COUNTIES)]
    used_ids: set[str] = set()
    result = [Village(name=n, township=township) for n in village_names(villages, rng)]
    for h in range(households):
        v = result[h % villages]
        hh = _household(v, len(v.households) + 1, county, rng, used_ids)
        v.households.append(hh)
    if error_rate > 0:
        _plant(result, error_rate, rng)
    return result


def _household(v: Village, number: int, county: str, rng: random.Random, used: set[str]) -> Household:
    size = rng.choices((1, 2, 3, 4, 5), weights=(25, 30, 20, 15, 10))[0]
    surname = rng.choice(SURNAMES)
    head_age = rng.randint(28, 92)
    head_sex = rng.choice("男女")
    hh = Household(number=f"{number:03d}", address=f"{v.township}{v.name}{rng.randint(1, 9)}组{rng.randint(1, 120)}号",
                   size=size)
    category = rng.choices([t for t, _ in HOUSEHOLD_TYPES], weights=[w for _, w in HOUSEHOLD_TYPES])[0]
    head = _person(surname if head_sex == "男" or rng.random() < 0.5 else rng.choice(SURNAMES), head_sex, head_age,
                   "户主", county, rng, used)
    head.categories = category
    if "残疾人" in category:
        head.disability_grade = rng.choice(("一级", "二级", "三级", "四级"))
    head.phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    head.bank_card = _bank_card(rng)
    head.bank_name = rng.choice(("农村信用社", "农业银行", "邮政储蓄银行", "农商银行"))
    hh.members.append(head)
    taken = {head.name}
    for k in range(1, size):
        if k == 1 and head_age > 22:
            sex = "女" if head_sex == "男" else "男"
            age = max(20, head_age + rng.randint(-5, 5))
            p = _person(rng.choice(SURNAMES), sex, age, "配偶", county, rng, used, taken)
        elif head_age > 75 and k == 2:
            sex = rng.choice("男女")
            p = _person(surname, sex, head_age - rng.randint(24, 32), "儿子" if sex == "男" else "女儿", county, rng, used,
                        taken)
        else:
            sex = rng.choice("男女")
            age = max(0, min(head_age - 20, rng.randint(0, 40)))
            rel = ("儿子" if sex == "男" else "女儿") if head_age < 70 else ("孙子" if sex == "男" else "孙女")
            p = _person(surname, sex, age, rel, county, rng, used, taken)
        if rng.random() < 0.05:
            p.categories = "残疾人"
            p.disability_grade = rng.choice(("一级", "二级", "三级", "四级"))
        hh.members.append(p)
        taken.add(p.name)
    return hh


def _person(surname: str, sex: str, age: int, relation: str, county: str, rng: random.Random,
            used: set[str], taken: set[str] | None = None) -> Person:
    while True:  # no two members of one household share a name
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if taken is None or surname + given not in taken:
            break
    while True:
        birth = REFERENCE_DATE - timedelta(days=age * 365 + rng.randint(1, 364))
        seq = rng.randint(0, 499) * 2 + (1 if sex == "男" else 0)
        body = f"{county}{birth:%Y%m%d}{seq:03d}"
        id_number = body + check_digit(body)
        if id_number not in used:
            used.add(id_number)
            return Person(name=surname + given, id_number=id_number, sex=sex, relation=relation)


def _bank_card(rng: random.Random) -> str:
    body = "622848" + "".join(rng.choice("0123456789") for _ in range(12))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def _plant(villages: list[Village], rate: float, rng: random.Random) -> None:
    """Plant one mistake in about ``rate`` of the persons, cycling through every kind."""
    persons = [(hh, p) for v in villages for hh in v.households for p in hh.members]
    count = max(1, round(len(persons) * rate))
    chosen = rng.sample(range(len(persons)), min(count, len(persons)))
    for n, idx in enumerate(sorted(chosen)):
        hh, p = persons[idx]
        kind = ERROR_KINDS[n % len(ERROR_KINDS)]
        if kind == "household-multiple-heads" and (p.relation == "户主" or len(hh.members) < 2):
            kind = "sex-mismatch"
        if kind == "id-numeric-cell" and p.id_number.endswith("X"):
            kind = "id-checksum"  # Excel keeps an ID ending in X as text
        p.planted = kind
        if kind == "id-numeric-cell":
            p.id_as_number = True
        elif kind == "id-checksum":
            last = p.id_number[-1]
            p.id_number = p.id_number[:-1] + ("0" if last != "0" else "1")
        elif kind == "id-birthdate-implausible":
            body = p.id_number[:6] + "2099" + p.id_number[10:17]
            p.id_number = body + check_digit(body)
        elif kind == "id-normalized-fullwidth":
            p.id_number = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in p.id_number)
        elif kind == "id-normalized-lower-x":
            body = p.id_number[:17]
            for bump in range(1000):
                trial = body[:14] + f"{(int(body[14:17]) + bump * 2) % 1000:03d}"
                if check_digit(trial) == "X":
                    p.id_number = trial + "x"
                    break
            else:  # pragma: no cover - some sequence always gives X
                p.planted = None
        elif kind == "category-unknown":
            p.categories = "低宝户"
        elif kind == "household-multiple-heads":
            p.relation = "户主"
        elif kind == "name-missing":
            p.name = ""
        elif kind == "sex-mismatch":
            p.sex = "女" if p.sex == "男" else "男"
