"""Workbook writing with XlsxWriter, set up so data can never become a formula or a link."""

from __future__ import annotations

import re
import zipfile
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


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def normalize_xlsx(path: Path) -> None:
    """Fix the document timestamps and zip entry dates of a written workbook, in place.

    Writers stamp the time of writing into docProps/core.xml and into every zip entry; with
    them fixed, the same inputs give byte-identical workbooks.
    """
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    tmp = path.with_name(path.name + ".norm")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zout.writestr(info, data, compresslevel=1)  # fast: a prefecture's sheets are hundreds of MB
    tmp.replace(path)
