"""Where a piece of a plan was written: a line of a YAML file, or a cell of a plan workbook.

Messages about a plan (pydantic's and the rules check's) name this place, so a clerk who
wrote the plan in a workbook is sent to 工作表“标准”第 5 行“现金”列（F5）, and someone who
wrote YAML to 第 12 行.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from weiwen.core.yamlio import Located


@dataclass(frozen=True)
class Place:
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # the column's header in a workbook
    cell: str | None = None  # "F5"

    def zh(self) -> str:
        if self.sheet is None:
            return f"第 {self.row} 行" if self.row else "文件中"
        text = f"工作表“{self.sheet}”"
        if self.row:
            text += f"第 {self.row} 行"
        if self.column:
            text += f"“{self.column}”列"
        if self.cell:
            text += f"（{self.cell}）"
        return text


class Locator(Protocol):
    """The plain data a plan was read into, and the place of every key and item in it."""

    data: Any
    in_workbook: bool

    def place(self, loc: tuple[Any, ...], mention: str | None = None) -> Place | None: ...


class YamlPlaces:
    in_workbook = False

    def __init__(self, located: Located):
        self.data = located.data
        self.located = located

    def place(self, loc: tuple[Any, ...], mention: str | None = None) -> Place | None:
        line = self.located.line_of(loc)
        return Place(row=line) if line else None


class CellPlaces:
    """Places recorded while a workbook was read: the deepest recorded prefix of a path wins."""

    in_workbook = True

    def __init__(self) -> None:
        self.data: Any = None
        self.places: dict[tuple[Any, ...], Place] = {}
        self.texts: dict[tuple[Any, ...], list[tuple[Place, str]]] = {}  # a condition's cells and their text

    def put(self, loc: tuple[Any, ...], place: Place) -> None:
        self.places.setdefault(loc, place)

    def put_texts(self, loc: tuple[Any, ...], cells: list[tuple[Place, str]]) -> None:
        self.texts[loc] = cells

    def place(self, loc: tuple[Any, ...], mention: str | None = None) -> Place | None:
        """The cell of ``loc``; with ``mention`` (a category, a column), the cell of the condition that
        names it — 对象类别 or 其他条件, of a package part or else of its package."""
        if mention:
            candidates = [loc]
            if "parts" in loc:
                candidates.append((*loc[:loc.index("parts")], "when"))
            for at in candidates:
                for place, text in self.texts.get(tuple(at), []):
                    if mention in text:
                        return place
        for end in range(len(loc), -1, -1):
            found = self.places.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None
