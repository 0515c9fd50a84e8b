"""The plan workbook (慰问方案.xlsx): its sheets, columns and the items of 活动, declared once.

The reader (:mod:`weiwen.rules.workbook`) and the writer (:mod:`weiwen.sheets.plan_book`) both
work from these tables, so a column the writer adds is a column the reader knows.
``docs/plan-workbook.md`` explains every sheet to clerks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "date", "money", "int", "bool", "choice", "list", "choices"]

YES, NO = "是", "否"
PER = {"按户": "household", "按人": "person", "按户人口": "member"}
PACKAGE = "组合包"
TIER_BY = {"户人口数": "household_size", "残疾等级": "disability_grade", "年龄": "age"}
TIER_GOODS_NONE = "无"  # 本档物资: this step pays no goods (empty: the standard's goods)
TIER_GOODS_LISTED = "见物资表"


@dataclass(frozen=True)
class Item:
    """One row of the 活动 sheet: its label, where its value goes in the rules, how it is read."""

    label: str
    path: tuple[str, ...]
    kind: Kind
    help: str
    choices: tuple[tuple[str, str], ...] = ()  # (Chinese, value)
    required: bool = False
    default: str = ""  # what a blank template shows


CAMPAIGN_ITEMS: tuple[Item, ...] = (
    Item("活动名称", ("campaign", "name"), "text", "印在各张表的标题上，例如“城关镇2027年春节走访慰问”。", required=True),
    Item("活动代码", ("campaign", "code"), "text",
         "区分各次活动，用于文件名和台账，只能有汉字、字母、数字、- 和 _，例如 spring-2027。", required=True),
    Item("基准日期", ("campaign", "reference_date"), "date", "年龄按这一天计算，例如 2027-01-20。", required=True),
    Item("慰问对象", ("campaign", "recipients"), "choice",
         "户：各村报送的花名册（默认）；单位：慰问单位名单，每行一个单位及其牵头部门；"
         "职工事件：职工慰问登记表，每行一件事（住院、结婚等），标准按“慰问事由”对应类别。",
         choices=(("户", "household"), ("单位", "unit"), ("职工事件", "person")), default="户"),
    Item("方案文号", ("campaign", "source"), "text", "慰问方案的文号，例如 城政办〔2026〕58号。"),
    Item("开始日期", ("campaign", "effective_from"), "date", "方案的执行期（可不填）。"),
    Item("结束日期", ("campaign", "effective_to"), "date", "方案的执行期（可不填）。"),
    Item("乡镇（街道）", ("campaign", "township"), "text",
         "只核定这个乡镇（街道）的户：花名册“乡镇”列写了别的乡镇的户不纳入；花名册没有乡镇列时，各表印这里的名称。"),
    Item("花名册位置", ("campaign", "rosters"), "text", "不指定花名册文件时读取的文件，例如 花名册/*.xlsx。"),
    Item("上级下拨资金", ("budget", "ceiling"), "money", "元；预算表据此算出缺口或结余。"),
    Item("方案总金额", ("budget", "stated_total"), "money", "方案正文写明的总金额（元），与核定结果不符时提示。"),
    Item("组合方式", ("combination", "mode"), "choice",
         "一户符合多项标准时：最高标准（只发金额最高的一项）、按顺序（按“优先顺序”取第一项）、全部发放。",
         choices=(("最高标准", "highest"), ("按顺序", "priority"), ("全部发放", "all")), default="最高标准"),
    Item("比较范围", ("combination", "scope"), "choice",
         "按户：一户只发一项最高标准；按人：每人各按自己的最高标准（参与比较的标准都要按人计发）。",
         choices=(("按户", "household"), ("按人", "person")), default="按户"),
    Item("优先顺序", ("combination", "order"), "list", "组合方式为“按顺序”时，标准代码按优先顺序用顿号分开。"),
    Item("每户上限", ("cap",), "money", "每户合计不超过的金额（元）：超出时先减现金，物资不拆分。"),
    Item("排除原因", ("exclusions", "reason"), "text", "“排除”表中的人员在明细中注明的原因。", default="举报属实取消"),
    Item("排除名单文件", ("exclusions", "ids_file"), "text", "另有身份证号名单文件时写文件名（与本方案放在同一文件夹）。"),
    Item("名额空缺递补", ("quotas", "refill"), "bool", "有“名额”表时：异议成立取消的户，名额是否由后面的户递补（是/否）。",
         default=NO),
    Item("台账回溯月数", ("ledger", "lookback_months"), "int", "指定台账时：几个月内已慰问过的人视为已慰问（0：只看本次活动）。",
         default="0"),
    Item("公示天数", ("publicity", "days"), "int", "张榜公示的天数。", default="3"),
    Item("公示开始日期", ("publicity", "start"), "date", "不填时公示名单上的日期留空，手写。"),
    Item("受理异议单位", ("publicity", "office"), "text", "印在公示名单上，例如 城关镇民政办。"),
    Item("监督电话", ("publicity", "phone"), "text", "印在公示名单上。"),
    Item("分片方式", ("budget", "split", "by"), "choice",
         "资金在几个片区之间分配时填写：按比例（在“分片”表写各片区的比例）或 按各村户数。",
         choices=(("按比例", "weights"), ("按各村户数", "village_households"))),
    Item("分片资金", ("budget", "split", "fund"), "money", "分片分配的资金（元）；不填时为上级下拨资金。"),
    Item("分片取整", ("budget", "split", "unit"), "choice", "分片金额取整到元或到十元（不填：到元）。",
         choices=(("到元", "1"), ("到十元", "10"))),
    Item("输出文件夹", ("run", "output"), "text", "weiwen run 写出结果的文件夹。", default="输出"),
    Item("运行步骤", ("run", "steps"), "choices", "weiwen run 依次做的步骤，用顿号分开：检查、查重、核定、预算。",
         choices=(("检查", "validate"), ("查重", "duplicates"), ("核定", "allocate"), ("预算", "budget")),
         default="检查、查重、核定、预算"),
    Item("台账", ("run", "ledger"), "text", "weiwen run 使用的台账，例如 sqlite:///台账.db（可不填）。"),
)


@dataclass(frozen=True)
class Column:
    header: str
    help: str
    width: float = 12
    required: bool = False


@dataclass(frozen=True)
class Table:
    sheet: str
    columns: tuple[Column, ...]
    purpose: str

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


CAMPAIGN = Table("活动", (Column("项目", "", 14), Column("内容", "", 30), Column("说明", "", 56)),
                 "活动的名称、日期、资金和组合方式，每行一项。")
STANDARDS = Table("标准", (
    Column("代码", "标准的代码：汉字、字母、数字、- 和 _；组合包的部分不填。", 12),
    Column("名称", "标准的名称，印在明细和签领表上；组合包的部分写部分的名称。", 22, required=True),
    Column("对象类别", "享受这项标准的类别，多个用顿号分开，满足其一即可，例如 伤残军人、参战涉核人员。", 18),
    Column("其他条件", "类别以外的条件，例如 年龄≥80、残疾等级≤2、户人口≥3；写法见“填写说明”。", 24),
    Column("计发方式", "按户、按人、按户人口（每户按人口数计发），或 组合包（由下面几行“部分”组成）。", 10, required=True),
    Column("现金", "每户（或每人）发放的现金，元；只发物资时填 0。", 9),
    Column("物资只发一次", "按人计发时：一户有几人享受，物资只发一份，其余的人折成现金（是/否）。", 8),
    Column("是否另行发放", "是：在最高标准之外另行发放（如现役军人家属）；否：参与比较，只发最高的一项。", 8),
    Column("所属组合", "组合包的部分：写它所属组合包的代码；单独的标准不填。", 10),
    Column("备注", "印在明细上的说明（可不填）。", 20),
), "每行一项标准；组合包先写一行“组合包”，再在下面写它的各个部分。")
GOODS = Table("物资", (
    Column("标准", "物资所属标准的代码。", 12, required=True),
    Column("部分", "组合包的物资：写部分的名称；否则不填。", 16),
    Column("档次", "分档的物资：写“分档”表中的档次号；不分档不填。", 6),
    Column("物品", "例如 面粉、清油、大米、生活用品。", 12, required=True),
    Column("单位", "例如 公斤、升、袋、份（不填：份）。", 6),
    Column("数量", "每户（或每人）的数量（不填：1）。", 8),
    Column("单价", "每个单位折价多少元；只知道总价时数量填 1、单价填总价。", 8, required=True),
), "每行一种物资：属于哪项标准，数量和单价。")
TIERS = Table("分档", (
    Column("标准", "分档的标准的代码。", 12, required=True),
    Column("部分", "组合包的部分分档时写部分的名称；否则不填。", 16),
    Column("档次", "档次号 1、2、3……（物资表按档次号对应）。", 6),
    Column("分档依据", "户人口数、残疾等级 或 年龄；同一标准各档要相同。", 10, required=True),
    Column("下限", "这一档的最小值（含）；第一档可不填。", 7),
    Column("上限", "这一档的最大值（含）；最后一档可不填。", 7),
    Column("现金", "这一档的现金，元；不填时用“标准”表的现金。", 8),
    Column("本档物资", "不填：与标准的物资相同；无：这一档不发物资；见物资表：这一档的物资在物资表按档次号列出。", 12),
), "金额随户人口数、残疾等级或年龄变化的标准，每档一行。")
QUOTAS = Table("名额", (
    Column("村（社区）", "村或社区的名称，与花名册一致。", 18, required=True),
    Column("名额", "最多慰问的户数。", 8, required=True),
), "上级分配给各村的户数名额；不限名额时此表留空。")
EXCLUSIONS = Table("排除", (
    Column("身份证号", "不予慰问的人（公示期间举报属实等），整户取消。", 22),
    Column("花名册列", "或者：花名册中某一列……", 14),
    Column("列值", "……等于这个值的户不纳入，例如 上年已慰问 = 是。", 10),
    Column("说明", "原因（可不填，不影响核定）。", 24),
), "不予慰问的人：按身份证号，或按花名册中的某列。")
STATED = Table("方案合计", (
    Column("标准", "标准的代码。", 12, required=True),
    Column("方案人数", "方案写明的人数（按户计发的写户数）。", 10),
    Column("方案小计", "方案写明的小计金额，元。", 12),
), "方案正文写明的各项人数和小计；与核定结果不符时 weiwen 会提示。")
CATEGORIES = Table("类别", (
    Column("类别", "本活动新增的类别名称。", 16, required=True),
    Column("上级类别", "属于哪个已有的类别（可不填）。", 14),
    Column("别名", "花名册中的其他写法，用顿号分开。", 30),
), "本活动新增的类别（weiwen 已认识的类别不必写）。")
LIMITS = Table("次数限制", (
    Column("慰问事由", "限制次数的事由，多个用顿号分开时合并计数，例如 住院。", 18, required=True),
    Column("每人每年最多次数", "同一职工一年内（按事件日期）最多慰问几次；再多的列入“待决定”，不自动发放也不删去。", 12,
           required=True),
), "慰问对象为“职工事件”时：每人每年的次数限制（如“年度内多次住院，适当控制掌握”）；不限次数时此表留空。")
SPLIT = Table("分片", (
    Column("片区", "片区名称。", 16, required=True),
    Column("比例", "分配比例，例如 1.3 和 1。", 8, required=True),
), "“分片方式”为按比例时，各片区的比例。")

TABLES: tuple[Table, ...] = (STANDARDS, GOODS, TIERS, QUOTAS, EXCLUSIONS, STATED, CATEGORIES, LIMITS, SPLIT)
HELP_SHEET = "填写说明"
LIST_SHEET = "选项"
IGNORED_HEADERS = ("序号", "说明")  # a clerk's own numbering and notes are not read
