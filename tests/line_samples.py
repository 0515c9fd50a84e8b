"""The sample unit list and event roster of samples/ (``python -m tests.line_samples`` writes them).

The front-line list has the 47 units of the real plan (seeds/004) under six leading
departments; the event roster has the cases the union plan's scenario test checks by hand: a
second hospitalisation in a year (listed for decision), one approved (是) and one refused (否),
two in different years (both paid), and one event of each other kind."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import write_xlsx
from weiwen.core.ids import check_digit

ROOT = Path(__file__).parent.parent
UNIT_LIST = ROOT / "samples" / "一线单位" / "慰问单位名单.xlsx"
EVENT_ROSTER = ROOT / "samples" / "工会慰问" / "职工慰问登记表.xlsx"

DEPARTMENTS = {
    "办公室": ["县政府值班室", "县应急指挥中心", "县疫情防控指挥部", "县融媒体中心夜班", "县信访接待大厅", "县政务服务中心"],
    "治安大队": ["城关检查站", "东关检查站", "西关检查站", "南关检查站", "北关检查站", "火车站出站口卡点",
                 "汽车站进站口卡点", "高速城关收费站卡点"],
    "交警大队": ["G310国道东卡点", "G310国道西卡点", "S221省道南卡点", "S221省道北卡点", "高速东出口执勤点",
                 "高速西出口执勤点", "城区环岛执勤点", "大桥北头执勤点"],
    "卫健局": ["县人民医院发热门诊", "县中医院发热门诊", "县妇幼保健院预检分诊", "县疾控中心检验科", "城关卫生院隔离点",
               "东关卫生院隔离点", "集中隔离酒店一", "集中隔离酒店二", "120急救站"],
    "城关镇": ["城关镇王楼村值守点", "城关镇张庄村值守点", "城关镇李家湾村值守点", "城关镇东街社区值守点",
               "城关镇西街社区值守点", "城关镇南街社区值守点", "城关镇北街社区值守点", "城关镇集贸市场值守点"],
    "东关镇": ["东关镇政府值守点", "东关镇大王庄值守点", "东关镇小李庄值守点", "东关镇河口值守点",
               "东关镇高速路口值守点", "东关镇集贸市场值守点", "东关镇中学值守点", "东关镇卫生院值守点"],
}


def person_id(region: str, birth: str, seq: int, male: bool) -> str:
    body = f"{region}{birth}{seq:02d}{1 if male else 2}"
    return body + check_digit(body)


# (姓名, 身份证号, 工号, 部门, 慰问事由, 事件日期, 是否同意, 备注)
EVENTS = [
    ("张伟", person_id("410102", "19800314", 12, True), "1001", "教务处", "住院", "2026-03-02", "", ""),
    ("李娜", person_id("410102", "19930521", 34, False), "1002", "教务处", "结婚", "2026-05-01", "", ""),
    ("王芳", "", "1003", "后勤处", "生日", "2026-06-18", "", "只有工号"),
    ("刘洋", person_id("410105", "19750909", 56, True), "1004", "后勤处", "直系亲属去世", "2026-02-11", "", "父亲病故"),
    ("陈静", person_id("410105", "19880102", 78, False), "1005", "财务处", "家属住院", "2026-04-20", "", "配偶住院"),
    ("张伟", person_id("410102", "19800314", 12, True), "1001", "教务处", "因病住院", "2026-09-15", "", "本年第二次住院"),
    ("赵磊", person_id("410103", "19700707", 21, True), "1006", "保卫处", "住院", "2025-12-20", "", "上年度"),
    ("赵磊", person_id("410103", "19700707", 21, True), "1006", "保卫处", "住院", "2026-02-10", "", ""),
    ("孙丽", person_id("410104", "19851111", 43, False), "1007", "图书馆", "住院", "2026-04-01", "", ""),
    ("孙丽", person_id("410104", "19851111", 43, False), "1007", "图书馆", "住院", "2026-06-01", "是", "病情较重，工会同意再次慰问"),
    ("周强", person_id("410104", "19790606", 65, True), "1008", "图书馆", "住院", "2026-03-05", "", ""),
    ("周强", person_id("410104", "19790606", 65, True), "1008", "图书馆", "住院", "2026-03-25", "否", "同一次住院转院"),
]


def unit_rows() -> list[list[object]]:
    rows: list[list[object]] = [["疫情防控一线单位慰问名单"], ["序号", "慰问单位", "牵头部门", "联系人", "联系电话", "备注"]]
    n = 0
    for dept, units in DEPARTMENTS.items():
        for u in units:
            n += 1
            rows.append([n, u, dept, "", "", ""])
    return rows


def event_rows() -> list[list[object]]:
    rows: list[list[object]] = [["序号", "姓名", "身份证号", "工号", "部门", "慰问事由", "事件日期", "是否同意", "备注"]]
    for k, e in enumerate(EVENTS, 1):
        rows.append([k, *e])
    return rows


def write_samples() -> None:
    assert sum(len(u) for u in DEPARTMENTS.values()) == 47
    UNIT_LIST.parent.mkdir(parents=True, exist_ok=True)
    EVENT_ROSTER.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(UNIT_LIST, unit_rows(), sheet="慰问单位")
    write_xlsx(EVENT_ROSTER, event_rows(), sheet="登记表")


if __name__ == "__main__":
    write_samples()
    sys.stdout.write(f"{UNIT_LIST}\n{EVENT_ROSTER}\n")
