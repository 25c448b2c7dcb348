"""The import template: a data sheet with Chinese headers and dropdowns, and an instructions sheet."""

from collections.abc import Iterable

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from leifeng.core.excel import text_safe
from leifeng.core.idnumbers import Gender, IdType
from leifeng.people.excel.columns import (
    COLUMN_BY_KEY,
    COLUMNS,
    DATA_SHEET,
    GENDER_ZH,
    HELP_SHEET,
    ID_TYPE_ZH,
    LISTS_SHEET,
    NO,
    POLITICAL_ZH,
    TEMPLATE_ROWS,
    TIME_ZH,
    YES,
    _zh,
)
from leifeng.people.models import (
    AvailableTime,
    PoliticalStatus,
)


def _append(ws, values: list) -> None:
    """`ws.append` with every string a text cell (`core.excel.text_safe`): a station named "=…" stays words."""
    ws.append(values)
    if values:
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                text_safe(cell, cell.value)


def template_workbook(*, stations: Iterable[str] = ()) -> openpyxl.Workbook:
    """The import template: a data sheet with Chinese headers and dropdowns, and an instructions sheet.

    `stations` (names the downloading user may register into) fill the 所属站点 dropdown.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE2E2")
    optional_fill = PatternFill("solid", fgColor="EEEEEE")
    for i, c in enumerate(COLUMNS, start=1):
        cell = text_safe(ws.cell(row=1, column=i), c.header)
        cell.font = bold
        cell.fill = required_fill if c.required else optional_fill
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = c.width
        if c.key in ("id_number", "phone", "guardian_phone"):
            # Text, so Excel neither rounds 18-digit numbers nor drops the X check digit.
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"

    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    dropdowns = {
        "id_type": list(_zh(IdType, ID_TYPE_ZH).values()),
        "political_status": list(_zh(PoliticalStatus, POLITICAL_ZH).values()),
        "in_service_party_member": [YES, NO],
        "guardian_consent": [YES, NO],
        "org": list(dict.fromkeys(stations)),
        "gender": list(_zh(Gender, GENDER_ZH).values()),
    }
    for n, (key, words) in enumerate(dropdowns.items(), start=1):
        if not words:
            continue
        col = get_column_letter(n)
        for r, word in enumerate(words, start=1):
            text_safe(lists.cell(row=r, column=n), word)
        c = COLUMN_BY_KEY[key]
        dv = DataValidation(
            type="list",
            formula1=f"'{LISTS_SHEET}'!${col}$1:${col}${len(words)}",
            allow_blank=True,
            showErrorMessage=key != "org",  # a station may be typed as 分中心/站点
            errorTitle=c.header,
            error="请从下拉列表中选择。",
        )
        letter = get_column_letter(COLUMNS.index(c) + 1)
        dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(dv)

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 80
    _append(help_ws, ["志愿者批量导入说明"])
    help_ws["A1"].font = Font(bold=True, size=14)
    for line in (
        f"在“{DATA_SHEET}”工作表中从第 2 行起每行填写一名志愿者，第 1 行的表头不要修改（列的顺序可以调整）。",
        "导入前请确认表中每位志愿者本人（未成年人还须监护人）已同意登记；证件号码加密保存、脱敏显示。",
        "只要有一行有错误，整个文件都不会导入；系统会列出出错的行号、列和原因，改正后重新上传即可。",
        "已登记的证件号码、同一文件内重复的证件号码或手机号码都会被列为错误。",
    ):
        _append(help_ws, [line])
    _append(help_ws, [])
    _append(help_ws, ["列", "是否必填", "说明"])
    for cell in help_ws[help_ws.max_row]:
        cell.font = bold
    times = "、".join(_zh(AvailableTime, TIME_ZH).values())
    for c in COLUMNS:
        text = c.help + (times if c.key == "available_times" else "")
        _append(help_ws, [c.header, "必填" if c.required else "选填", text])
    for row in help_ws.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    _append(help_ws, [])
    _append(help_ws, ["示例（仅供参考，请勿在此工作表填写）"])
    help_ws[help_ws.max_row][0].font = bold
    _append(help_ws, [c.header for c in COLUMNS])
    example_station = next(iter(stations), "东关社区站")
    _append(
        help_ws,
        [
            "张三",
            ID_TYPE_ZH[IdType.RIC],
            "110105199003070025",
            "13800138000",
            example_station,
            POLITICAL_ZH[PoliticalStatus.CPC_MEMBER],
            YES,
            "理发、家电维修",
            f"{TIME_ZH[AvailableTime.WEEKEND]}、{TIME_ZH[AvailableTime.HOLIDAYS]}",
            "zhangsan@example.com",
            "",
            "",
            "",
            "",
            "",
        ],
    )
    return wb
