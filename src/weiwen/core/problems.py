"""Problems found in inputs: a closed catalogue of stable codes with Chinese messages.

Every problem weiwen reports is a :class:`Problem`: a stable kebab-case code, a severity,
the position (file, sheet, Excel row number, column header as written in the file) and a
Chinese message rendered from the catalogue.  Problems are data: they are collected, never
raised one by one, so a user sees every problem of a run together.

The catalogue is public API.  A code, once released, keeps its meaning; its message may be
improved.  ``docs/errors.md`` is checked against this catalogue by the test suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ZH = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}


@dataclass(frozen=True)
class Kind:
    """One entry of the catalogue."""

    code: str
    severity: Severity
    title: str
    template: str
    hint: str = ""


_KINDS: dict[str, Kind] = {}


def _kind(code: str, severity: Severity, title: str, template: str, hint: str = "") -> Kind:
    kind = Kind(code, severity, title, template, hint)
    assert code not in _KINDS, code
    _KINDS[code] = kind
    return kind


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

# --- files and sheets -------------------------------------------------------------------
_kind("file-not-found", E, "文件不存在", "找不到文件：{path}", "请检查文件名和路径是否正确。")
_kind("file-is-directory", E, "不是文件", "{path} 是一个文件夹，不是花名册文件。",
      "请指定文件夹里的 .xlsx/.xls/.csv 文件，例如 花名册/*.xlsx。")
_kind("file-unreadable", E, "文件无法读取", "无法读取文件：{reason}", "请检查文件权限，或关闭正在占用它的程序后重试。")
_kind("file-empty", E, "文件为空", "文件大小为 0 字节，没有任何内容。", "请向报送单位重新索取文件。")
_kind("file-corrupt", E, "文件已损坏", "文件不完整或已损坏，无法打开（{reason}）。",
      "请用 Excel/WPS 打开确认，必要时请报送单位重新发送。")
_kind("file-encrypted", E, "文件有密码保护", "文件设置了打开密码，无法读取。",
      "请在 Excel/WPS 中取消密码保护（文件→信息→保护工作簿）后另存为 .xlsx。")
_kind("file-is-html", E, "文件实为网页", "文件扩展名是表格，但内容是网页（HTML），常见于业务系统导出。",
      "请在 Excel/WPS 中打开后“另存为”Excel 工作簿（.xlsx）。")
_kind("file-unsupported", E, "不支持的文件类型", "无法识别的文件类型（{detail}）。",
      "支持的格式：.xlsx、.xlsm、.xls、.csv。")
_kind("file-too-large", E, "文件过大", "文件解压后过大（{detail}），为防止恶意文件已拒绝读取。",
      "如确为正常花名册，请按乡镇或村拆分后分别处理。")
_kind("file-over-budget", E, "读取超出内存或时间上限",
      "读取这个文件用尽了{what}上限（{limit}），已停止读取；文件可能已损坏或是被故意构造的。",
      "请用 Excel/WPS 打开确认，另存为 .xlsx 后重新报送；其他文件照常读取。")
_kind("sheet-too-large", E, "工作表范围异常", "工作表的单元格范围异常大（{detail}），读取要占用极大的内存，为防止损坏或恶意文件已拒绝读取。",
      "请用 Excel/WPS 打开，删除数据以外的行和列后另存；必要时请报送单位重新发送。")
_kind("file-ext-mismatch", W, "扩展名与内容不符", "文件扩展名为 {ext}，但内容实际是 {actual} 格式，已按 {actual} 读取。",
      "建议在 Excel/WPS 中另存为正确的格式。")
_kind("encoding-unknown", E, "无法识别文字编码", "CSV 文件既不是 UTF-8 也不是 GBK/GB18030 编码。",
      "请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx。")
_kind("sheet-not-found", E, "工作表不存在", "找不到工作表“{sheet}”；文件中的工作表有：{available}。")
_kind("sheet-empty", I, "工作表为空", "工作表没有任何数据，已跳过。")
_kind("file-no-persons", E, "花名册没有填写人员", "花名册有表头，但一个人也没有填写（{sheets}）；可能是空白模板。",
      "请填好后重新报送；这个村(社区)没有慰问对象时，不必报送这个文件。")
_kind("file-no-data", E, "文件中没有数据", "文件中所有工作表都是空的。", "请确认发来的是填好的花名册。")
_kind("sheet-no-table", I, "工作表中没有花名册", "工作表“{sheet}”中没有花名册表头（可能是说明或汇总表），已跳过。")
_kind("sheet-hidden", I, "隐藏的工作表", "工作表“{sheet}”是隐藏的，未读取。",
      "如其中有需要的数据，请取消隐藏，或用 --sheet 指定。")
_kind("header-not-found", E, "找不到表头", "在前 {scanned} 行中找不到表头（需要至少包含“姓名”和“身份证号”两列）。",
      "请确认表头含有“姓名”“身份证号”等列名；列名是其他写法时，请乡镇在列名别名文件中补充（见使用说明）。")
_kind("header-missing", E, "缺少必需的列", "缺少必需的列“{field}”；找到的列有：{found}。",
      "请补上该列，或在别名文件中为现有列名补充别名。")
_kind("header-duplicate", E, "列名重复", "列“{field}”出现了两次（{columns}），无法确定用哪一列。",
      "请删除或改名其中一列。")
_kind("category-column-missing", W, "没有类别列", "表中没有“类别”列，也没有“是否××”列，核定慰问标准时将无法判断类别。",
      "请增加“类别”列（多个类别用顿号分开），或为每个类别增加“是否××”列。")
_kind("rows-skipped-title", I, "跳过标题行", "表头上方的 {count} 行（第 {rows} 行）是标题或说明，已跳过：{text}")
_kind("rows-skipped-footer", I, "跳过表尾行", "第 {rows} 行是合计或签字等表尾内容，已跳过：{text}")
_kind("rows-skipped-blank", I, "跳过空行", "跳过空行 {count} 行（第 {rows} 行）。")
_kind("household-rows", I, "一户一行的名单", "表中没有成员的姓名或身份证号列，按一户一行读取：{columns}作为每户户主的信息。")
_kind("village-inferred", I, "村(社区)由表名推断", "表中没有“村(社区)”列，本表的村(社区)取自{source}：{village}。")
_kind("village-missing", I, "没有村(社区)", "表中没有“村(社区)”列，也无法从标题、工作表名或文件名推断；本表的人按同一个村处理。",
      "如名单分属不同的村(社区)，请增加“村(社区)”列（工会、慈善会等不分村的名单不必理会）。")
_kind("village-empty", W, "村(社区)为空", "这一行没有填写村(社区)。",
      "请补上村(社区)；没有村名的人在公示名单和签领表里会归到“未填村名”一组。")
_kind("blank-marker", I, "“无”“/”按未填处理", "列“{column}”中有 {count} 格填的是 {markers}，已按未填处理。")
_kind("text-guard-removed", I, "去掉了号码外的 '、=\"…\" 或制表符",
      "列“{column}”中有 {count} 格写成 '…、=\"…\" 或带制表符（导出系统为防止 Excel 把长号码改成科学计数法而加），已去掉这些符号再校验。")
_kind("filled-from-above", I, "按上一行填充", "列“{column}”有 {count} 格是家庭成员行里空着或写“同上”的，已按同一户上一行的内容填充。")
_kind("merged-cells-filled", I, "合并单元格已向下填充", "列“{column}”有 {count} 处合并单元格（{ranges}），已按同一户向下填充。")
_kind("merged-person-field", E, "个人信息列有合并单元格", "列“{column}”的单元格 {range} 被合并，每人应单独填写。",
      "请取消合并，并为每一行分别填写。")
_kind("cell-error-value", E, "单元格是错误值", "单元格是 Excel 错误值 {value}。", "请检查该单元格的公式。")
_kind("cell-too-long", E, "单元格文字过长", "单元格有 {length} 个字，超过 Excel 一格最多 32767 个字的限制，写进结果会被截断。",
      "请检查是否误粘贴了大段文字。")
_kind("formula-no-value", E, "公式没有计算结果", "单元格是公式，但文件里没有保存它的计算结果（常见于程序生成的表格），读不出它的值。",
      "请用 Excel/WPS 打开文件、保存一次（会算出结果）后重新运行，或把公式改成数值。")
_kind("marks-unchecked", W, "未能检查隐藏行和错误值", "读取这张表的隐藏行和错误值时出错（{reason}），其余校验照常。",
      "请在 Excel/WPS 中确认表中没有隐藏的行和 #N/A 等错误值，或另存为 .xlsx 后重新运行。")
_kind("row-hidden", E, "隐藏的行", "这一行在表格中被隐藏或被筛选掉了（常是已划掉的人员），不纳入核定。",
      "如该人员应纳入，请在 Excel/WPS 中取消隐藏、清除筛选后重新运行；如不应纳入，请删除这一行。")

# --- persons ----------------------------------------------------------------------------
_kind("name-missing", E, "缺少姓名", "姓名为空。")
# --- unit lists and event rosters (campaigns whose recipients are not households) --------
_kind("list-header-not-found", E, "找不到表头", "在前 {scanned} 行中找不到{what}的表头（需要{needs}这几列）。",
      "请确认这是本活动的名单，表头写在前几行；列名可以用 weiwen 认识的别名（见 docs/rules.md）。")
_kind("list-needs-campaign", E, "要指定活动", "这是{what}，不是各村的户花名册：要按慰问单位或职工事件的活动核对。",
      "请用 --campaign 或 --rules 指定这样的活动，例如 --campaign {example}；写法见 docs/rules.md“慰问对象不是户的活动”。")
_kind("unit-name-missing", E, "缺少单位名称", "慰问单位的名称为空。")
_kind("department-missing", E, "缺少部门", "{what}为空。", "发放清单按部门分开，请填写负责的部门。")
_kind("unit-duplicate", E, "单位重复", "慰问单位“{value}”在同一部门下出现了不止一次（另见：{others}）。",
      "同一个单位只慰问一次：请删去重复的一行；若确是两个单位，请写出区别（如“××卡点一组”“××卡点二组”）。")
_kind("member-key-column-missing", E, "缺少身份证号或工号列", "登记表既没有“身份证号”列也没有“工号”列，无法确认是哪一位职工。",
      "请加上“身份证号”或“工号”一列。")
_kind("member-key-missing", E, "缺少身份证号或工号", "这一行既没有有效的身份证号也没有工号，无法确认是哪一位职工。")
_kind("event-missing", E, "缺少慰问事由", "慰问事由为空。")
_kind("event-unknown", E, "慰问事由不在方案中", "慰问事由“{value}”不是本活动方案中的事由。{suggest}",
      "方案列出的事由见慰问方案的标准；同一事由的其他写法可以在方案的类别中加为别名。")
_kind("event-date-missing", E, "缺少事件日期", "事件日期为空。", "次数限制按事件日期所在的年度计算，请填写日期。")
_kind("event-date-invalid", E, "事件日期无法识别", "事件日期“{value}”无法识别。", "请写成 2027-01-15 或 2027年1月15日。")
_kind("event-date-future", W, "事件日期在今天之后", "事件日期 {value} 在今天之后。", "请核对日期是否写错。")
_kind("event-duplicate", E, "同一事件登记两次",
      "{who} 在 {day} 的“{event}”登记了不止一次（另见：{others}）。", "同一件事只慰问一次：请删去重复的一行。")
_kind("approval-invalid", E, "是否同意无法识别", "“{value}”不是“是”或“否”。", "“是否同意”一列只写 是 或 否，或者空着（尚未决定）。")
_kind("name-control-chars", W, "姓名含不可见字符", "姓名中含有不可见的控制字符，已删除。")
_kind("id-missing", E, "缺少身份证号", "身份证号为空。")
_kind("id-numeric-cell", E, "身份证号被存为数字", "身份证号被 Excel 存成了数字（{value}），后几位已经丢失，无法恢复。",
      "请把该列设置为“文本”格式后重新录入身份证号（或在号码前加英文单引号 '）。")
_kind("id-precision-lost", E, "身份证号精度丢失", "身份证号是科学计数法或末尾被截断（{value}），已无法恢复。",
      "请把该列设置为“文本”格式后重新录入身份证号。")
_kind("id-bad-char", E, "身份证号含非法字符", "身份证号只能是数字，最后一位可以是 X；这里有“{chars}”。",
      "请检查是否误输入了字母、符号或空格。")
_kind("id-length", E, "身份证号位数不对", "身份证号应为 18 位（或旧的 15 位），这里是 {length} 位。")
_kind("id-birthdate", E, "身份证号出生日期无效", "身份证号中的出生日期 {date} 不是有效日期。")
_kind("id-birthdate-implausible", E, "身份证号出生日期不合理", "身份证号中的出生日期 {date} {why}。")
_kind("id-checksum", E, "身份证号校验位错误", "身份证号最后一位校验码应为 {expected}，这里是 {actual}。",
      "请核对原始证件，常见原因是某一位数字录错。")
_kind("id-checksum-zeros", E, "身份证号校验位错误", "身份证号校验码不对，且末尾是 {tail}，很可能是 Excel 把号码当数字截断了。",
      "请把该列设置为“文本”格式后重新录入身份证号。")
_kind("id-region", W, "地区码未知", "身份证号前 6 位地区码 {region} 不在行政区划代码表中（可能已撤销或录错）。")
_kind("id-normalized", W, "身份证号已规范化", "身份证号含{what}，已规范为标准写法。")
_kind("id-legacy-15", W, "15 位旧身份证号", "15 位旧身份证号，已按规则升位为 18 位（{upgraded}），请核对。")
_kind("sex-invalid", E, "性别无法识别", "性别“{value}”无法识别，应填“男”或“女”。")
_kind("sex-mismatch", E, "性别与身份证号不符", "性别填的是“{given}”，身份证号显示为“{derived}”。",
      "请核对性别和身份证号，其中一处有误。")
_kind("birthdate-invalid", E, "出生日期无法识别", "出生日期“{value}”无法识别。", "请写成 1990-03-07 或 1990年3月7日 的形式。")
_kind("birthdate-mismatch", E, "出生日期与身份证号不符", "出生日期填的是 {given}，身份证号显示为 {derived}。",
      "请核对出生日期和身份证号，其中一处有误。")
_kind("category-unknown", E, "类别无法识别", "类别“{value}”不在类别表中。{suggest}",
      "请改成类别表中的名称；本地的其他叫法，请乡镇在类别别名文件中补充（见使用说明）。")
_kind("flag-invalid", E, "是/否 无法识别", "“{value}”无法识别，应填“是”或“否”（也可用 √ 或留空）。")
_kind("phone-invalid", W, "联系电话格式不对", "联系电话“{value}”不是有效的手机或固定电话号码。")
_kind("phone-numeric-cell", W, "联系电话被存为数字", "联系电话被 Excel 存成了数字，已按 {digits} 位号码读取。",
      "建议把该列设置为“文本”格式。")
_kind("bank-numeric-cell", E, "银行卡号被存为数字", "银行卡号被 Excel 存成了数字（{value}），超过 15 位的部分已经丢失。",
      "请把该列设置为“文本”格式后重新录入银行卡号。")
_kind("bank-invalid", E, "银行卡号格式不对", "银行卡号应为 12 到 19 位数字，这里是“{value}”。")
_kind("bank-luhn", W, "银行卡号校验未通过", "银行卡号未通过校验（存折账号可能属正常情况），请核对。")
_kind("number-invalid", E, "数值无法识别", "“{value}”不是有效的数值。")
_kind("household-size-invalid", E, "人口数无法识别", "人口数“{value}”应为 1 到 {max} 之间的整数。")
_kind("disability-grade-invalid", E, "残疾等级无法识别", "残疾等级“{value}”无法识别，应为一级到四级。")
_kind("duplicate-person", E, "同一人重复列出", "身份证号 {id} 在本次输入中重复出现：{others}。",
      "同一人只能列一次，请删除重复的行。")

# --- households -------------------------------------------------------------------------
_kind("relation-invalid", W, "与户主关系无法识别", "与户主关系“{value}”无法识别。")
_kind("household-multiple-heads", E, "一户有多个户主", "户 {household} 有 {count} 个户主（第 {rows} 行）。",
      "每户只能有一个户主，请核对与户主关系或户号。")
_kind("household-no-head", E, "户内没有户主", "户 {household} 没有标为“户主”的人（第 {rows} 行）。",
      "请在户主所在行的“与户主关系”填“户主”。")
_kind("household-head-not-listed", W, "户主不在名单中", "户主身份证号 {id} 在名单中找不到对应的人。")
_kind("household-head-name-mismatch", W, "户主姓名不一致", "户主姓名填的是“{given}”，户主本人所在行的姓名是“{actual}”。")
_kind("household-size-inconsistent", W, "人口数前后不一致", "户 {household} 各行填写的人口数不一致：{values}。")
_kind("household-size-fewer", W, "人口数少于列出的人数", "户 {household} 人口数填 {size} 人，但名单列出了 {listed} 人。",
      "请核对人口数；计算户规模时按列出的 {listed} 人。")
_kind("household-size-more", I, "人口数多于列出的人数", "户 {household} 人口数填 {size} 人，名单只列出了 {listed} 人（其余家庭成员未列入名单）。")
_kind("household-no-category", W, "整户没有类别", "户 {household} 没有任何人填写类别，将无法核定慰问标准。")
_kind("household-split-villages", E, "同一户分属多个村", "户 {household} 的成员分属不同的村(社区)：{villages}。")

# --- the campaign's rules against the rosters (file: the rules file, row: its line) -------
_kind("rules-category-unknown", E, "规则中的类别不存在",
      "标准“{standard}”中的类别“{category}”不在类别表中，花名册中没有人会因为这个类别享受这项标准{suggestion}",
      "请改成类别表中的名称（方案表格“对象类别”列和花名册模板“类别”列的下拉列表列出了全部类别），或在方案中定义它"
      "（方案表格的“类别”表，或规则文件的 categories）。")
_kind("rules-category-alias", I, "规则用了类别别名", "标准“{standard}”中的类别“{category}”是“{canonical}”的别名，按“{canonical}”计算。")
_kind("rules-column-missing", E, "规则读取的列不存在",
      "标准“{standard}”的条件要读花名册的“{header}”列，但{where}没有这一列，所有人都会被判为不符合。{detail}",
      "请在花名册中增加这一列，或改正规则中的列名（与花名册表头一致，全角半角括号不计）。")
_kind("rules-exclusion-id-invalid", E, "排除的身份证号有误",
      "排除名单中的身份证号 {id} 不是有效的号码（{why}），这一行没有排除任何人。",
      "请对照原始材料改正；要排除的人仍在名单上，会照常核定。")
_kind("rules-exclusion-id-absent", W, "排除的人不在花名册中",
      "排除名单中的身份证号 {id} 在{where}中找不到，这一行没有排除任何人。",
      "如果这个人在花名册中，说明号码写错了，请改正；不在花名册中则可以不管。")
_kind("rules-quota-village-unknown", E, "名额表的村不在花名册中",
      "名额表中的“{village}”在花名册中没有这个村（社区），这个名额没有限制任何户。{suggestion}",
      "村名要与花名册中的写法完全一致；这个村没有报送花名册时，请删去这一行。")
_kind("rules-quota-village-absent", W, "名额表的村没有花名册", "名额表中的“{village}”没有报送花名册（花名册中没有这个村），这一行暂不起作用。")
_kind("rules-quota-village-missing", W, "有村没有名额", "花名册中的以下村（社区）在名额表中没有名额，不受名额限制：{villages}。",
      "如方案给每个村都分配了名额，请在名额表中补上。")
_kind("rules-tier-gap", E, "分档有空档",
      "标准“{standard}”按{by}分档，{missing}不在任何一档内，将得到 0 元。",
      "请补上这一档，或把相邻一档的下限、上限（min/max）改为首尾相接。")
_kind("rules-tier-overlap", E, "分档重叠", "标准“{standard}”按{by}分档，{by}{value}同时落在第 {first} 档和第 {second} 档。",
      "每个值只能属于一档，请改正下限、上限（min/max）。")
_kind("rules-condition-contradictory", E, "条件自相矛盾", "标准“{standard}”的条件自相矛盾（{detail}），没有人能符合。",
      "请改正条件中的比较值。")
_kind("rules-standard-zero", W, "标准金额为 0", "标准“{standard}”的现金和物资都是 0，符合的户将得到 0 元。")
_kind("rules-same-condition", W, "两项标准条件相同", "标准“{first}”和“{second}”的条件完全相同，总是互相竞争。")
_kind("rules-competing", I, "互相竞争的标准", "{count} 项不另行发放的标准互相竞争，{scope}同时符合多项时按{how}只发一项：{names}。")
_kind("rules-category-declared-unused", W, "自定义类别无标准涉及", "方案自己定义的类别没有任何标准涉及：{categories}。")
_kind("rules-bundled-uncovered", I, "自带类别无标准涉及",
      "自带类别表中以下类别没有任何标准涉及（这些类别的对象只有在符合其他条件时才会得到慰问）：{categories}")
_kind("rules-exclusion-column-missing", W, "无法按列排除", "名单无法按“{header}”排除：{where}没有“{header}”列，这一排除条件没有起作用。",
      "如方案要求排除这些对象，请在花名册中增加“{header}”列并填写。")
_kind("rules-category-uncovered", W, "花名册类别无标准涉及",
      "花名册中有 {count} 人的类别含“{category}”，但没有任何标准涉及这一类别（他们只有在符合其他标准时才会得到慰问）。")
_kind("rules-standard-unused", W, "标准无人享受", "标准“{standard}”没有任何{who}享受{why}。")
_kind("rules-tier-outside", W, "符合条件但不在任何档内",
      "{count} 人符合标准“{standard}”的条件，但{by}不在任何一档内（{detail}），这些人按这项标准得到 0 元。")
_kind("rules-stated-differs", W, "与方案写明的数不符", "{what}：方案写明 {stated}，按花名册核定为 {actual}（相差 {diff}）。",
      "请核对方案或花名册：是方案中的数字有误，还是名单不全。")

# --- the bank's return file (回盘文件) of a batch payment --------------------------------
_kind("bank-return-header-not-found", E, "找不到回盘文件的表头",
      "在各工作表的前 {scanned} 行中找不到回盘文件的表头（应含有列：{headers}）。",
      "请确认选用的银行格式与这家银行的回盘文件一致，或在银行格式文件的 returns 中改正列名。")
_kind("bank-return-header-missing", E, "回盘文件缺少列", "回盘文件缺少列“{field}”；第 {header_row} 行的列有：{found}。",
      "请使用银行发回的原始回盘文件；如银行的列名不同，请在银行格式文件的 returns 中改正。")
_kind("bank-return-account-numeric", E, "回盘文件的账号被存成了数字",
      "账号被存成了数字（{value}），超过 15 位的部分可能已经丢失，无法据此对账。",
      "请使用银行发回的原始回盘文件，不要用 Excel/WPS 打开后另存再使用。")
_kind("bank-return-account-invalid", E, "回盘文件的账号不对", "账号{what}。",
      "请使用银行发回的原始回盘文件；如确有此行，请向银行核实。")
_kind("bank-return-amount-invalid", E, "回盘文件的金额不对", "金额“{value}”{what}。",
      "请使用银行发回的原始回盘文件；如确有此行，请向银行核实。")
_kind("bank-return-status-unknown", E, "未知的处理状态",
      "未知的处理状态“{status}”：既不是表示成功的（{success}），也不是表示失败的（{failure}），不能判断是否已支付。",
      "请向银行确认该状态的含义，然后把它加到银行格式文件 returns 的 success 或 failure 中。")
_kind("bank-return-duplicate-account", E, "回盘文件中账号重复", "账号 {account} 在回盘文件中重复出现（第 {first} 行已有）。",
      "同一账号的多条记录无法按账号对账，请向银行核实。")
_kind("bank-return-footer-skipped", I, "跳过表尾行", "这一行没有账号，是合计等表尾内容，已跳过：{text}")
_kind("bank-return-empty", E, "回盘文件中没有记录", "表头下面没有任何记录。", "请确认拿到的是银行处理完毕后的回盘文件。")


def kind(code: str) -> Kind:
    return _KINDS[code]


def all_kinds() -> list[Kind]:
    return list(_KINDS.values())


class Problem(BaseModel):
    """One problem at one place.  ``row`` is the Excel row number the user sees (1-based)."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    value: str | None = None
    message: str
    hint: str = ""

    def location_zh(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列“{self.column}”")
        if self.cell and self.sheet:
            parts[-1] += f"（{self.cell}）"
        return " ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "value": self.value,
        }


def make(
    code: str,
    *,
    file: str,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    cell: str | None = None,
    value: str | None = None,
    **fields: object,
) -> Problem:
    """Build a problem from the catalogue; ``fields`` fill the message template."""
    k = _KINDS[code]
    context = {"file": file, "sheet": sheet or "", "column": column or "", "value": value or "", **fields}
    return Problem(
        code=code,
        severity=k.severity,
        file=file,
        sheet=sheet,
        row=row,
        column=column,
        cell=cell,
        value=scrub(value) if value is not None else None,
        message=scrub(k.template.format(**context)),
        hint=scrub(k.hint.format(**context)) if k.hint else "",
    )


# A run of 11 or more digits (an ID number, with its X; a phone; a bank card) in a problem's text,
# whatever stands next to it: a letter typed into an ID (``110101199003071Nd4``) or two numbers run
# together (21 digits and more) are masked too (both found by tests/fuzz/fuzz_readers.py).
_LONG_NUMBER = re.compile(r"(?<![0-9])([0-9]{11,}[Xx]?)(?![0-9])")


def scrub(text: str) -> str:
    """``text`` with every long number masked, whatever column it came from: an unquoted comma in a
    CSV name shifts a row, and the ID number then stands where a sex or a grade was expected.
    Messages, hints and values never carry a full ID, phone or card number."""
    return _LONG_NUMBER.sub(lambda m: _mask(m.group(1)), text) if text else text


def _mask(digits: str) -> str:
    head, tail = (6, 4) if len(digits) in (15, 18) else (3, 4)
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[-tail:]


def count(problems: Iterable[Problem], severity: Severity) -> int:
    return sum(1 for p in problems if p.severity is severity)


def catalogue_markdown() -> str:
    """docs/errors.md, generated from the catalogue (``python -m weiwen.core.problems``)."""
    lines = [
        "# 问题代码一览 / Problem codes",
        "",
        "weiwen 报告的每个问题都有一个稳定的代码（kebab-case），在 `--json` 输出的 `code` 字段和 `校验报告.json` 中出现；"
        "屏幕上和标注副本的“错误清单”中显示的是它的中文名称（下表“问题”列）。代码一经发布含义不变；说明文字可能改进。",
        "级别为“错误”的问题使该行不合格（不参与核定）；“警告”和“提示”不影响。",
        "以 `rules-` 开头的代码是方案（规则文件或方案表格）与花名册对照时发现的问题，位置是规则文件的行号或方案表格的单元格；"
        "其中级别为“错误”的使 allocate、budget、explain、run 拒绝核定（退出码 1，不写出任何文件）。",
        "",
        "本页由 `python -m weiwen.core.problems > docs/errors.md` 生成，测试会检查它与程序一致。",
        "",
        "| 代码 | 级别 | 问题 | 说明模板 | 建议 |",
        "|---|---|---|---|---|",
    ]
    for k in _KINDS.values():
        lines.append(f"| `{k.code}` | {SEVERITY_ZH[k.severity]} | {k.title} | {k.template} | {k.hint} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(catalogue_markdown(), end="")
