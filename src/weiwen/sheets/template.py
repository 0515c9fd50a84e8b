"""The blank roster template villages fill in (``weiwen template``)."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.atomic import write_atomic
from weiwen.sheets.xlsx import new_workbook
from weiwen.model.vocab import Vocabulary

TEMPLATE_FIELDS = (
    "seq", "village", "household_no", "name", "id_number", "sex", "relation", "categories",
    "household_size", "disability_grade", "phone", "bank_card", "bank_name", "address", "remark",
)
TEXT_FIELDS = frozenset({"household_no", "id_number", "phone", "bank_card"})
WIDTHS = {"seq": 6, "village": 14, "household_no": 10, "name": 10, "id_number": 22, "sex": 6, "relation": 12,
          "categories": 22, "household_size": 8, "disability_grade": 10, "phone": 15, "bank_card": 24,
          "bank_name": 16, "address": 28, "remark": 20}
DATA_ROWS = 500
MAIN_SHEET = "花名册"
HELP_SHEET = "填写说明"
LIST_SHEET = "选项"

INSTRUCTIONS = [
    ("填写说明", ""),
    ("1. 每人一行", "同一户的家庭成员写在相邻的行，户号相同；户主一行“与户主关系”填“户主”。"),
    ("2. 身份证号", "身份证号、联系电话、银行卡号三列已设为“文本”格式，请直接输入，不要改成数字或常规格式，"
                 "否则 Excel 会把后几位变成 0，无法恢复。最后一位是 X 的请输入大写 X。"),
    ("3. 类别", "可从下拉列表选择；一人有多个类别时用顿号分开，例如“低保、残疾人”。"),
    ("4. 人口数", "填写全家户籍人口数（整数），同一户各行填写相同的数。"),
    ("5. 残疾等级", "有残疾证的填写一级至四级，没有的留空。"),
    ("6. 表尾", "表格下方可以写“合计”“制表人”“审核人”，程序会自动识别并跳过。"),
    ("7. 标题", "第 1 行的标题请改成本村（社区）名称，例如“张庄村2027年春节走访慰问对象花名册”。"),
    ("8. 隐私", "本表含有身份证号等个人信息，只在经办人员之间传递，不得公开张贴。"),
]


def write_template(target: Path, vocab: Vocabulary, *, extra_columns: tuple[str, ...] = (),
                   campaign: str | None = None) -> None:
    """The blank roster; ``extra_columns``: the columns a campaign's rules read (after the standard
    ones, as text), ``campaign``: its name in the title."""
    write_atomic(target, lambda tmp: _write(tmp, vocab, extra_columns, campaign))


def _write(path: Path, vocab: Vocabulary, extra_columns: tuple[str, ...], campaign: str | None) -> None:
    wb = new_workbook(path)
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter",
                          "text_wrap": True})
    text = wb.add_format({"num_format": "@", "border": 1})
    plain = wb.add_format({"border": 1})

    ws = wb.add_worksheet(MAIN_SHEET)
    last_col = len(TEMPLATE_FIELDS) + len(extra_columns) - 1
    heading = f"＿＿＿村（社区）{campaign}对象花名册" if campaign else "＿＿＿村（社区）＿＿＿＿年春节走访慰问对象花名册"
    ws.merge_range(0, 0, 0, last_col, heading, title)
    ws.set_row(0, 30)
    ws.set_row(1, 32)
    for j, key in enumerate(TEMPLATE_FIELDS):
        ws.write_string(1, j, vocab.label(key), head)
        ws.set_column(j, j, WIDTHS[key], text if key in TEXT_FIELDS else plain)
    for k, header in enumerate(extra_columns, start=len(TEMPLATE_FIELDS)):
        ws.write_string(1, k, header, head)
        ws.set_column(k, k, max(12, 2 * len(header) + 2), text)
    for r in range(2, 2 + DATA_ROWS):
        for j, key in enumerate(TEMPLATE_FIELDS):
            ws.write_blank(r, j, None, text if key in TEXT_FIELDS else plain)
        for k in range(len(TEMPLATE_FIELDS), last_col + 1):
            ws.write_blank(r, k, None, text)
    ws.freeze_panes(2, 0)
    ws.repeat_rows(1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)

    # Option lists live on a hidden sheet: a list typed inline is limited to 255 characters.
    lists = wb.add_worksheet(LIST_SHEET)
    columns = {"categories": list(vocab.categories), "relation": sorted(set(vocab.relation_index.values()),
                                                                       key=_relation_order),
               "sex": ["男", "女"], "disability_grade": ["一级", "二级", "三级", "四级"]}
    for j, (key, values) in enumerate(columns.items()):
        lists.write_string(0, j, vocab.label(key))
        for i, v in enumerate(values, start=1):
            lists.write_string(i, j, v)
        col = TEMPLATE_FIELDS.index(key)
        source = f"={LIST_SHEET}!${chr(65 + j)}$2:${chr(65 + j)}${len(values) + 1}"
        ws.data_validation(2, col, 1 + DATA_ROWS, col, {
            "validate": "list",
            "source": source,
            # Several categories in one cell (低保、残疾人) must stay possible: warn, do not refuse.
            "error_type": "stop" if key in ("sex", "disability_grade") else "information",
            "error_title": "请从列表中选择",
            "error_message": "该值不在列表中。多个类别请用顿号分开。",
        })
    ws.data_validation(2, TEMPLATE_FIELDS.index("household_size"), 1 + DATA_ROWS,
                       TEMPLATE_FIELDS.index("household_size"),
                       {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 30,
                        "error_title": "人口数", "error_message": "请填写 1 到 30 之间的整数。"})
    lists.hide()

    help_ws = wb.add_worksheet(HELP_SHEET)
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    bold = wb.add_format({"bold": True, "valign": "top"})
    help_ws.set_column(0, 0, 14)
    help_ws.set_column(1, 1, 80)
    for i, (k, v) in enumerate(INSTRUCTIONS):
        help_ws.write_string(i, 0, k, bold)
        help_ws.write_string(i, 1, v, wrap)
    ws.activate()
    wb.close()


def _relation_order(name: str) -> tuple[int, str]:
    order = ["户主", "配偶", "子女", "父母", "祖父母", "孙子女", "儿媳女婿", "兄弟姐妹", "其他"]
    return (order.index(name) if name in order else len(order), name)
