"""Workbook writing with XlsxWriter, set up so data can never become a formula or a link."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

FIXED_TIME = datetime(2000, 1, 1)  # document timestamps fixed: same inputs, same bytes


def new_workbook(path: Path, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": constant_memory,
        },
    )
    wb.set_properties({"author": "weiwen", "created": FIXED_TIME})
    return wb
