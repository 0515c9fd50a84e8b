"""Turn a located sheet into the validated roster frame (:data:`weiwen.model.frames.PERSONS`).

This is the boundary where cells become typed data: the pre-pass (:mod:`.prepass`) settles what
the sheet's shape says (merged cells, 同上, blank markers, text guards, marks), each field is
parsed by :mod:`.cells`, members are linked into households by :mod:`.households`, and every
problem is collected on the way (:mod:`.collect`).  Column checks are vectorised or cached on
distinct values, so a million rows go through in seconds; a problem object is made only for a
bad cell.

Length: ``_build_roster`` is one pass over the columns in the order their checks depend on each
other (IDs before births and sexes, relations before heads); split further it would hand a dozen
half-built columns between functions.
"""

from __future__ import annotations

from operator import is_not, itemgetter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core import problems as P
from weiwen.read.workbook import RawSheet
from weiwen.roster.layout import SheetLayout, cell_text, col_letter
from weiwen.core.text import clean, clean_texts, has_control, normalize_name_texts, text_series
from weiwen.model.frames import EXTRA_PREFIX, ROSTER_COLUMNS
from weiwen.model.vocab import Vocabulary
from weiwen.roster.cells import MAX_HOUSEHOLD_SIZE, arrow_mask, as_text, bank_column, by_value, check_id_column, distinct_texts, int_column, is_blank, memoized, parse_categories, parse_date, parse_grade, parse_household_size, phone_column
from weiwen.roster.collect import Collector
from weiwen.roster.households import link_households
from weiwen.roster.prepass import blank_markers, fill_down, fill_merged, report_marks, too_long, unwrap_text_guards


@dataclass
class SheetRoster:
    file: str
    sheet: str
    frame: pd.DataFrame
    problems: list[P.Problem] = field(default_factory=list)

THREADED_ROWS = 20_000  # a sheet this long cleans its text columns on a second thread


def build_roster(sheet: RawSheet, layout: SheetLayout, vocab: Vocabulary, today: date) -> SheetRoster:
    # A long sheet's text columns are cleaned on a second thread while this one checks the others:
    # Arrow's kernels (NFKC, regexes) run without the GIL, so the two overlap (a million rows: 15%
    # faster).  For a village's few hundred rows the thread costs more than it saves (2 ms a file).
    if len(layout.data_rows) < THREADED_ROWS:
        return _build_roster(sheet, layout, vocab, today, None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return _build_roster(sheet, layout, vocab, today, pool)


def _build_roster(sheet: RawSheet, layout: SheetLayout, vocab: Vocabulary, today: date,
                  pool: ThreadPoolExecutor | None) -> SheetRoster:
    out = Collector(sheet, layout)
    out.problems.extend(layout.problems)
    for p in layout.problems:
        if p.severity is P.Severity.ERROR and p.row is not None and p.code != "header-duplicate":
            out.bad_rows.add(p.row)
    fill_merged(sheet, layout, out)
    report_marks(sheet, layout, out)

    rows_idx = layout.data_rows
    n = len(rows_idx)
    cols = layout.columns
    if n and rows_idx[-1] - rows_idx[0] == n - 1:  # no blank row inside the table: slices
        excel_rows = list(range(rows_idx[0] + 1, rows_idx[-1] + 2))
        data_rows = sheet.rows[rows_idx[0]:rows_idx[-1] + 1]
    else:
        excel_rows = [i + 1 for i in rows_idx]
        data_rows = [sheet.rows[i] for i in rows_idx]
    lengths = set(map(len, data_rows))
    width = max(lengths, default=0)
    if len(lengths) > 1:  # CSV rows may be ragged; workbook rows are already rectangular
        for row in data_rows:
            if len(row) < width:
                row.extend([None] * (width - len(row)))

    # Take each used column out of the rows once, then let the row lists go.
    wanted = set(cols.values()) | set(layout.flags.values()) | set(layout.extras.values())
    columns: dict[int, list[object]] = {j: list(map(itemgetter(j), data_rows)) for j in sorted(wanted) if j < width}
    del data_rows
    sheet.rows = []
    if not sheet.typed:
        unwrap_text_guards(columns, cols, out)
    blank_markers(columns, cols, out)
    fill_down(columns, cols, vocab, out)

    def raw(key: str) -> list[object]:
        j = cols.get(key)
        if j is None or j not in columns:
            return [None] * n
        return columns[j]

    arrow: dict[str, pa.Array] = {}  # frame columns already cleaned in Arrow: no second conversion

    cleaned_arrow: dict[str, pa.Array] = {}
    pending = {key: pool.submit(clean_texts, as_text(raw(key)))
               for key in ("sex", "relation", "categories", "household_no", "township", "bank_name", "address",
                           "remark", "village") if key in cols} if pool else {}

    def text(key: str, *, column: bool = False) -> list[str]:
        """Cleaned cells of ``key``; with ``column``, they are the frame's column as they are."""
        values, cleaned_arrow[key] = pending.pop(key).result() if key in pending else clean_texts(as_text(raw(key)))
        if column:
            arrow[key] = cleaned_arrow[key]
        return values

    data: dict[str, Any] = {
        "file": sheet.file,
        "sheet": sheet.name,
        "row": np.asarray(excel_rows, dtype=np.int64),
    }

    # Names.
    names_raw = as_text(raw("name"))
    names, arrow["name"] = normalize_name_texts(names_raw)
    # Cleaning hands back the very string object of a cell it leaves alone, and a cell with a
    # control character is never left alone: only empty or changed names need a look.
    looked_at = np.fromiter(map(is_not, names_raw, names), dtype=bool, count=n) | arrow_mask(pc.equal(arrow["name"], ""))
    for i in np.flatnonzero(looked_at).tolist():
        v, nv = names_raw[i], names[i]
        if not nv:
            out.add("name-missing", excel_rows[i], "name")
        elif not v.isprintable() and has_control(v):
            out.add("name-control-chars", excel_rows[i], "name")
    data["name"] = names

    # Identity numbers, with sex and birth date derived from them.
    id_norm, birth, male, id_text = check_id_column(raw("id_number"), excel_rows, "id_number", out, today,
                                                     required=True)
    data["id_number"] = id_norm
    data["id_text"] = id_text
    derived_sex = np.where(male, "男", "女")
    has_id = np.not_equal(np.array(id_norm, dtype=object), None)
    if "head_id" in cols:
        head_ids, _, _, _ = check_id_column(raw("head_id"), excel_rows, "head_id", out, today, required=False)
    else:
        head_ids = [None] * n
    data["head_id"] = head_ids

    # Sex and birth date: as given, cross-checked against the ID.
    sex_out = np.where(has_id, derived_sex, None).astype(object)
    if "sex" in cols:
        values = text("sex")
        given, written_sex, known = by_value(cleaned_arrow["sex"], vocab.sex)
        for i in np.flatnonzero(written_sex & ~known).tolist():
            out.add("sex-invalid", excel_rows[i], "sex", values[i])
        for i in np.flatnonzero(known & has_id & (given != derived_sex)).tolist():
            out.add("sex-mismatch", excel_rows[i], "sex", values[i], given=given[i], derived=derived_sex[i])
        fill = known & ~has_id
        sex_out[fill] = given[fill]
    data["sex"] = sex_out.tolist()
    birth_out = birth.copy()
    if "birth_date" in cols:
        for i, (r, v) in enumerate(zip(excel_rows, raw("birth_date"), strict=True)):
            if is_blank(v):
                continue
            parsed = parse_date(v, sheet.typed)
            if parsed is None:
                out.add("birthdate-invalid", r, "birth_date", cell_text(v))
                continue
            given, precision = parsed
            if has_id[i]:
                derived = birth[i].astype(object)
                same = (given.year, given.month) == (derived.year, derived.month) and (
                    precision == "month" or given.day == derived.day)
                if not same:
                    shown = given.isoformat()[:7] if precision == "month" else given.isoformat()
                    out.add("birthdate-mismatch", r, "birth_date", shown, given=shown, derived=derived.isoformat())
            elif precision == "day":
                birth_out[i] = np.datetime64(given.isoformat(), "D")
    data["birth_date"] = birth_out

    # Relation and heads.
    relations: list[str | None] = [None] * n
    if "relation" in cols:
        values = text("relation")
        given, written_rel, known = by_value(cleaned_arrow["relation"], vocab.relation)
        for i in np.flatnonzero(written_rel & ~known).tolist():
            out.add("relation-invalid", excel_rows[i], "relation", values[i])
        rel = np.where(known, given, np.asarray(values, dtype=object))  # an unknown relation is kept as written
        rel[~written_rel] = None
        relations = rel.tolist()
    data["relation"] = relations

    # Categories: one column with several per cell, and/or one yes/no column per category.
    joined = np.full(n, "", dtype=object)
    written = np.zeros(n, dtype=bool)  # any category written, known or not
    if "categories" in cols:
        values = text("categories")
        codes, uniques = distinct_texts(cleaned_arrow["categories"])
        parsed = [parse_categories(u, vocab) if u else ([], []) for u in uniques]
        joined = np.array(["、".join(known_cats) for known_cats, _ in parsed], dtype=object)[codes]
        written = np.array([bool(u) for u in uniques], dtype=bool)[codes]
        odd = [c for c, (_, unknown) in enumerate(parsed) if unknown]
        for i in np.flatnonzero(np.isin(codes, odd)).tolist() if odd else ():
            for token in parsed[codes[i]][1]:
                sugg = vocab.suggest_categories(token)
                hint = f"是不是：{'、'.join(sugg)}？" if sugg else ""
                out.add("category-unknown", excel_rows[i], "categories", token, suggest=hint)
    cats: list[list[str]] = [c.split("、") if c else [] for c in joined.tolist()] if layout.flags else []
    for cat, j in layout.flags.items():
        header = layout.headers[j]
        flag = memoized(vocab.flag)
        for i, v in enumerate(columns.get(j, [None] * n)):
            t = clean(cell_text(v))
            if isinstance(v, bool):
                yes: bool | None = v
            else:
                yes = flag(t)
            if yes is None:
                out.problems.append(P.make("flag-invalid", file=sheet.file, sheet=sheet.name, row=excel_rows[i],
                                           column=header, cell=f"{col_letter(j)}{excel_rows[i]}", value=t))
                out.bad_rows.add(excel_rows[i])
            elif yes and cat not in cats[i]:
                cats[i].append(cat)
                written[i] = True
    data["categories"] = ["、".join(c) for c in cats] if layout.flags else joined.tolist()

    # Household size, disability grade.
    data["household_size"] = int_column(raw("household_size"), excel_rows, "household_size", out,
                                          parse_household_size, "household-size-invalid", max=MAX_HOUSEHOLD_SIZE)
    data["disability_grade"] = int_column(raw("disability_grade"), excel_rows, "disability_grade", out,
                                            parse_grade, "disability-grade-invalid")

    # Phones and bank cards: text only.
    data["phone"] = arrow["phone"] = phone_column(raw("phone"), excel_rows, out)
    data["bank_card"] = arrow["bank_card"] = bank_column(raw("bank_card"), excel_rows, out)

    # Plain text fields.
    for key in ("household_no", "head_name", "township", "bank_name", "address", "remark"):
        if key not in cols:
            data[key] = [""] * n
        else:
            if key == "head_name":
                data[key], arrow[key] = normalize_name_texts(as_text(raw(key)))
            else:
                data[key] = text(key, column=True)
    if "village" in cols:
        villages = text("village", column=True)
        for i in np.flatnonzero(arrow_mask(pc.equal(arrow["village"], ""))).tolist():
            out.add("village-empty", excel_rows[i], "village")
    else:
        villages = [layout.village_hint or ""] * n
        if layout.village_hint:
            out.add("village-inferred", layout.header_index + 1, None, source=layout.village_source,
                    village=layout.village_hint)
        elif n:
            out.add("village-missing", layout.header_index + 1, None)
    data["village"] = villages

    # Extra columns are carried through as text, under their header.
    for header, j in layout.extras.items():
        if j in columns:
            data[f"extra:{header}"], arrow[f"extra:{header}"] = clean_texts(as_text(columns[j]))
        else:
            data[f"extra:{header}"] = [""] * n

    too_long(arrow, excel_rows, layout, out)
    linking = dict(data, **{k: arrow[k] for k in ("household_no", "village") if k in arrow})
    data["household"], arrow["household_link"], arrow["household_ref"], is_head = link_households(
        linking, n, layout, out, written)
    data["household_link"], data["household_ref"] = arrow["household_link"], arrow["household_ref"]
    data["is_head"] = is_head
    data["valid"] = ~np.isin(data["row"], np.fromiter(out.bad_rows, dtype=np.int64, count=len(out.bad_rows)))
    ordered = [c for c in ROSTER_COLUMNS if c in data] + [c for c in data if c.startswith(EXTRA_PREFIX)]
    # Text columns become Arrow strings (pandas' default): a third of the memory of Python strings,
    # and the workbook writer reads them without converting.
    final = {c: arrow.get(c, data[c]) for c in ordered}
    frame = pd.DataFrame({c: text_series(v) if isinstance(v, (list, pa.Array)) else v for c, v in final.items()},
                         index=pd.RangeIndex(n))
    return SheetRoster(file=sheet.file, sheet=sheet.name, frame=frame, problems=out.problems)
