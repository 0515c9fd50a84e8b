"""Workbook writing with XlsxWriter, set up so data can never become a formula or a link."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import xlsxwriter

FIXED_TIME = datetime(2000, 1, 1)  # document timestamps fixed: same inputs, same bytes
# The formats every printed table shares: its title above, its header row (wrapped, light blue).
TITLE = {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "text_wrap": True}
HEAD = {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#DDEBF7"}


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


def print_a4_landscape(ws: xlsxwriter.worksheet.Worksheet, *, header_row: int | None = 1,
                       footer: str = "&C第 &P 页，共 &N 页") -> None:
    """The print setup of every table weiwen writes: A4 landscape, one page wide, the header row
    (``header_row``, 0-based) repeated on every page, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    if header_row is not None:
        ws.repeat_rows(header_row)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer(footer)


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def normalize_xlsx(path: Path | BinaryIO) -> None:
    """Fix the document timestamps of a workbook written by rust_xlsxwriter, in place (a file, or
    a workbook in memory).

    The writer stamps the time of writing into docProps/core.xml (its zip entries are already
    dated 1980-01-01); with it fixed, the same inputs give byte-identical workbooks.  Only the
    entries from docProps/core.xml to the end of the archive are rewritten (the writer puts
    core.xml and app.xml last), so the hundreds of megabytes of sheets before it are neither
    decompressed nor compressed again: zipfile's append mode, started at core.xml's offset,
    writes those entries and a new central directory, then truncates the rest.
    """
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "a") as z:
        infos = z.infolist()
        at = next((k for k, info in enumerate(infos) if info.filename == "docProps/core.xml"), None)
        if at is None:
            return
        tail = [(info, z.read(info)) for info in infos[at:]]
        for info, _ in tail:
            del z.NameToInfo[info.filename]
        del z.filelist[at:]
        z.start_dir = tail[0][0].header_offset  # the next entry is written where core.xml began
        for info, data in tail:
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            z.writestr(entry, data, compresslevel=6)
