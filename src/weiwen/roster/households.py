"""Linking the members of a sheet into households and checking each household's structure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core.ids import mask_id
from weiwen.roster.layout import SheetLayout
from weiwen.model.recipients import HouseholdLink
from weiwen.roster.cells import text_codes
from weiwen.roster.collect import Collector




def link_households(data: dict[str, Any], n: int, layout: SheetLayout, out: Collector, written: list[bool]
                    ) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
    """Link members into households, find each head and check each household's structure.

    Members are linked by 户号 (within a village), else by 户主身份证号, else by the order of
    rows when there is a 与户主关系 column (a 户主 row starts a household), else each row is a
    household.  Checks run as group-bys on integer codes; Python loops only over households
    with a problem.
    """
    cols = layout.columns
    rows = data["row"]
    no_code, no_text = text_codes(data["household_no"])
    head_code, head_text = text_codes(data["head_id"])
    village_code, village_text = text_codes(data["village"])
    rel_code, rel_text = text_codes(data["relation"])
    has_relation = "relation" in cols
    marked_head = (rel_text == "户主")[rel_code]

    if has_relation:
        starts = marked_head.copy()
        if n:
            starts[0] = True
        fallback_kind, fallback_row = HouseholdLink.SEQUENCE, rows[np.maximum.accumulate(np.where(starts, np.arange(n), 0))] \
            if n else rows
    else:
        fallback_kind, fallback_row = HouseholdLink.ROW, rows
    # Each person's household as one integer (which link, then the linking values' codes), so the
    # grouping is numeric; the text key is made once per household, not once per person.
    has_no, has_head = (no_text != "")[no_code], (head_text != "")[head_code]
    link = np.where(has_no, (village_code.astype(np.int64) << 31) | no_code,  # codes < 2**30: kinds never meet
                    np.where(has_head, (1 << 61) | head_code.astype(np.int64),
                             (1 << 62) | fallback_row.astype(np.int64)))
    codes = pd.factorize(link)[0]  # numbered in order of first appearance, as before
    first_of = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    first_of[codes[::-1]] = np.arange(n)[::-1]
    at = first_of
    # Each household's structured key (model.recipients.HouseholdKey): the link and its reference,
    # made once per household in Arrow and spread to the members.
    g = len(at)
    link = np.where(has_no[at], HouseholdLink.NUMBER.value, np.where(
        has_head[at], HouseholdLink.HEAD_ID.value, fallback_kind.value))
    ref = pc.if_else(pa.array(has_no[at]), pa.array(no_text[no_code[at]], type=pa.large_string()), pc.if_else(
        pa.array(has_head[at]), pa.array(head_text[head_code[at]], type=pa.large_string()),
        pc.cast(pa.array(fallback_row[at]), pa.large_string()))) if g else pa.array([], type=pa.large_string())
    take = pa.array(codes)
    link_of = pa.array(link, type=pa.large_string()).take(take) if n else pa.array([], type=pa.large_string())
    ref_of = ref.take(take) if n else pa.array([], type=pa.large_string())
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(g + 1))

    def members_of(c: int) -> np.ndarray:
        return order[bounds[c]:bounds[c + 1]]

    def first_where(mask: np.ndarray) -> np.ndarray:
        """Per group, the first position where ``mask`` holds (-1 where it never does)."""
        out_ = np.full(g, -1, dtype=np.int64)
        pos = np.flatnonzero(mask)[::-1]
        out_[codes[pos]] = pos  # written last to first: the first position stays
        return out_

    def distinct(vcodes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Per group, how many distinct values (given as codes >= 0) where ``mask`` holds."""
        vcodes = vcodes.astype(np.int64)
        width = int(vcodes.max(initial=0)) + 1
        pairs = pd.unique(codes[mask].astype(np.int64) * width + vcodes[mask])
        return np.bincount(pairs // width, minlength=g)

    if has_relation:
        is_head = marked_head
    else:
        # The head is the member whose ID is the 户主身份证号, else whose name is the 户主姓名, else the first.
        ids = np.array([v or "" for v in data["id_number"]], dtype=object)
        head_id = head_text[head_code]
        names = np.array(data["name"], dtype=object)
        head_names = np.array(data["head_name"], dtype=object)
        score = 2 * ((ids == head_id) & has_head) + ((names == head_names) & (head_names != ""))
        ranked = np.lexsort((np.arange(n), -score, codes))
        firsts = ranked[np.r_[True, codes[ranked][1:] != codes[ranked][:-1]]] if n else ranked
        is_head = np.zeros(n, dtype=bool)
        is_head[firsts] = True

    size = data["household_size"]
    size_na = np.asarray(size.isna(), dtype=bool)
    size_val = np.where(size_na, -1, np.asarray(size.fillna(-1), dtype=np.int64))
    first = first_of
    members = np.bincount(codes, minlength=g)
    heads = np.bincount(codes, weights=is_head, minlength=g).astype(np.int64)
    villages = distinct(village_code, (village_text != "")[village_code])
    sizes = distinct(np.maximum(size_val, 0), ~size_na)
    max_size = np.full(g, -1, dtype=np.int64)
    np.maximum.at(max_size, codes, size_val)
    any_written = np.bincount(codes, weights=np.asarray(written, dtype=bool), minlength=g) > 0
    hid_at = first_where(has_head)

    def label(c: int) -> str:
        kind, rest = link[c], ref[c].as_py()
        if kind == HouseholdLink.NUMBER:
            return rest
        if kind == HouseholdLink.HEAD_ID:
            return "户主 " + mask_id(rest)
        return f"第 {rest} 行起" if kind == HouseholdLink.SEQUENCE else f"第 {rest} 行"

    for c in np.flatnonzero(heads > 1):
        head_rows = sorted(rows[m] for m in members_of(c) if is_head[m])
        for r in head_rows[1:]:
            out.add("household-multiple-heads", int(r), "relation", None, household=label(c), count=len(head_rows),
                    rows="、".join(map(str, head_rows)))
    for c in np.flatnonzero(heads == 0):
        member_rows = sorted(rows[members_of(c)].tolist())
        out.add("household-no-head", member_rows[0], "relation", None, household=label(c),
                rows=_short_rows(member_rows))
    listed = set(data["id_number"]) if (hid_at >= 0).any() else set()
    for c in np.flatnonzero(hid_at >= 0):
        hid = head_text[head_code[hid_at[c]]]
        if hid not in listed:
            out.add("household-head-not-listed", int(rows[first[c]]), "head_id", mask_id(hid), id=mask_id(hid))
    if "head_name" in cols:
        names_l, head_names_l = data["name"], data["head_name"]
        given_at = first_where(np.array([bool(h) for h in head_names_l], dtype=bool))
        for pos in np.flatnonzero(is_head):
            at = given_at[codes[pos]]
            given = head_names_l[at] if at >= 0 else ""
            if given and names_l[pos] and given != names_l[pos]:
                out.add("household-head-name-mismatch", int(rows[pos]), "head_name", given, given=given,
                        actual=names_l[pos])
    for c in np.flatnonzero(villages > 1):
        m = np.sort(members_of(c))
        vs = sorted({v for v in village_text[village_code[m]] if v})
        out.add("household-split-villages", int(rows[m[1]]), "village", None, household=label(c),
                villages="、".join(vs))
    for c in np.flatnonzero(sizes > 1):
        values = sorted({int(v) for v in size_val[members_of(c)] if v >= 0})
        out.add("household-size-inconsistent", int(rows[first[c]]), "household_size", None, household=label(c),
                values="、".join(map(str, values)))
    one = sizes == 1
    for c in np.flatnonzero(one & (max_size < members)):
        out.add("household-size-fewer", int(rows[first[c]]), "household_size", str(max_size[c]), household=label(c),
                size=int(max_size[c]), listed=int(members[c]))
    for c in np.flatnonzero(one & (max_size > members) & (members > 1)):
        out.add("household-size-more", int(rows[first[c]]), "household_size", str(max_size[c]), household=label(c),
                size=int(max_size[c]), listed=int(members[c]))
    if "categories" in cols or layout.flags:
        for c in np.flatnonzero(~any_written):
            out.add("household-no-category", int(rows[first[c]]), "categories", None, household=label(c))
    return codes.astype(np.int64), link_of, ref_of, is_head


def _short_rows(rows: Sequence[int]) -> str:
    shown = "、".join(str(r) for r in rows[:6])
    return shown + ("…" if len(rows) > 6 else "")
