"""Docs stay true: every command and option is documented, the error catalogue is current."""

from __future__ import annotations

import itertools
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import typer.main
from pydantic import BaseModel

from weiwen.core import problems as P
from weiwen.cli import app
from weiwen.rules import bundled_rules, find_campaign, load_rules

ROOT = Path(__file__).parent.parent
CLI_DOC = ROOT / "docs" / "cli.md"
RULES_DOC = ROOT / "docs" / "rules.md"

# Options docs/cli.md describes before the command has them: (command, option) -> the change that adds it.
# Tolerated only while the command lacks the option; once it has it, the entry must go (a test says so).
DOCUMENTED_AHEAD_OF_CODE: dict[tuple[str, str], str] = {
}


def test_error_catalogue_doc_is_current() -> None:
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == P.catalogue_markdown()


def test_every_code_has_a_chinese_message() -> None:
    for k in P.all_kinds():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", k.code), k.code
        assert re.search(r"[\u4e00-\u9fff]", k.template) and re.search(r"[\u4e00-\u9fff]", k.title), k.code


# --- docs/cli.md against the command line ----------------------------------------------------------------

def _commands() -> dict[str, object]:
    """Every command path ("weiwen", "weiwen ledger", "weiwen ledger export", …) and its Click command,
    taken from the Typer app itself (sub-groups walked), not from --help's text."""
    found: dict[str, object] = {}

    def walk(path: str, cmd: object) -> None:
        found[path] = cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(f"{path} {name}", sub)

    walk("weiwen", typer.main.get_command(app))
    return found


def _is_group(cmd: object) -> bool:
    return bool(getattr(cmd, "commands", None))


def _options(cmd: object) -> list[str]:
    """Every option string of a command (--campaign, -c, and the off side of a --x/--no-x flag), as --help
    shows them.  Typer 0.29 vendors its own Click, whose parameters are not ``click.Option`` instances:
    an option is told by its ``param_type_name``, which both Clicks set."""
    return [s for p in cmd.params if p.param_type_name == "option"  # type: ignore[attr-defined]
            for s in (*p.opts, *p.secondary_opts) if s not in ("--help", "-h")]


def _headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every Markdown heading outside code blocks."""
    out, fenced = [], False
    for i, line in enumerate(text.splitlines()):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6})\s+(.*?)\s*$", line)):
            out.append((i, len(m[1]), m[2].replace("`", "").strip()))
    return out


def _sections(text: str) -> dict[str, str]:
    """Heading title -> its section: the text between the heading and the next heading of the same or a
    higher level (so a ## section includes its ### subsections); two headings of one title share their
    sections.  Text before the first heading is ""."""
    lines = text.splitlines()
    heads = _headings(text)
    out = {"": "\n".join(lines[: heads[0][0]] if heads else lines)}
    for k, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[k + 1:] if lv <= level), len(lines))
        out[title] = (out[title] + "\n" if title in out else "") + "\n".join(lines[i + 1: end])
    return out


def _mentions(text: str, option: str) -> bool:
    """``option`` as a whole token (--campaign is not found in --campaigns, -c not in --cc or -cx)."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


OPTION_TOKEN = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _cli_sections() -> tuple[dict[str, object], dict[str, str]]:
    commands = _commands()
    sections = _sections(CLI_DOC.read_text(encoding="utf-8"))
    # The root command ("weiwen --version") is documented in the introduction, before the first command.
    intro = CLI_DOC.read_text(encoding="utf-8").split("\n## ", 1)[0]
    return commands, {**sections, "weiwen": intro}


def test_the_command_walk_sees_the_options() -> None:
    """The walk below must not pass by finding nothing (a Typer/Click upgrade changing the classes)."""
    commands = _commands()
    assert {"weiwen allocate", "weiwen ledger export", "weiwen rules check", "weiwen samples generate"} <= set(commands)
    assert {"--campaign", "-c", "--output", "-o", "--ledger"} <= set(_options(commands["weiwen allocate"]))
    assert "--version" in _options(commands["weiwen"])


def test_every_command_and_option_is_documented() -> None:
    """Each command has a “## weiwen …” section in docs/cli.md, and each of its options appears in that
    section: a new command or option without docs fails here, naming it."""
    commands, sections = _cli_sections()
    titles = [title for _, _, title in _headings(CLI_DOC.read_text(encoding="utf-8"))]
    missing = [f"{title}: two sections" for title in dict.fromkeys(titles) if titles.count(title) > 1]
    for path, cmd in commands.items():
        if _is_group(cmd) and path != "weiwen" and not _options(cmd):
            continue  # a group without options of its own (weiwen rules …): its commands are the sections
        if path not in sections:
            missing.append(f"{path}: no section “## {path}” in docs/cli.md")
            continue
        if not re.search(r"[\u4e00-\u9fff]", cmd.help or ""):  # type: ignore[attr-defined]
            missing.append(f"{path}: its --help text is not in Chinese")
        missing += [f"{path}: option {opt} is not in its section of docs/cli.md"
                    for opt in _options(cmd) if not _mentions(sections[path], opt)]
    assert not missing, "docs/cli.md is behind the command line:\n  " + "\n  ".join(missing)


def _usage_options(doc: str, commands: dict[str, object]) -> Iterator[tuple[str, str, str]]:
    """(command, option, where) for every option in the usage lines of the doc's ``` blocks: a line that
    starts with "weiwen" belongs to the longest command path it starts with."""
    fenced = False
    for line in doc.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        words = line.split()
        if fenced and words and words[0] == "weiwen":
            path = max((" ".join(words[:n]) for n in range(1, len(words) + 1) if " ".join(words[:n]) in commands),
                       key=len)
            for opt in OPTION_TOKEN.findall(line):
                yield path, opt, f"usage line “{line.strip()}”"


def _table_options(section: str) -> Iterator[tuple[str, str]]:
    """(option, where) for the options in the first column of a section's tables (| `--jobs`, `-j` | …)."""
    fenced = False
    for line in section.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("|"):
            first = line.split("|")[1]
            for span in re.findall(r"`([^`]+)`", first):
                for opt in OPTION_TOKEN.findall(span) if span.startswith("-") else []:
                    yield opt, f"table row “{first.strip()}”"


def test_docs_show_no_option_a_command_lacks() -> None:
    """The reverse: an option in a usage line, or in the option table of a command's section, that the
    command does not have (stale docs, or a typo) fails, naming the command and the option."""
    commands, sections = _cli_sections()
    shown = list(_usage_options(CLI_DOC.read_text(encoding="utf-8"), commands))
    stale: list[str] = []
    for title, body in sections.items():
        if title.startswith("weiwen ") and title not in commands:
            stale.append(f"section “## {title}”: there is no such command")
        elif title.startswith("weiwen ") and not _is_group(commands[title]):
            shown += [(title, opt, where) for opt, where in _table_options(body)]
    for path, opt, where in dict.fromkeys(shown):
        if opt in ("-h", "--help") or opt in _options(commands[path]) or (path, opt) in DOCUMENTED_AHEAD_OF_CODE:
            continue
        stale.append(f"{path}: {opt} is documented ({where}) but the command has no such option")
    assert not stale, "docs/cli.md shows what the command line does not have:\n  " + "\n  ".join(stale)


def test_options_documented_ahead_of_code_are_still_missing() -> None:
    """DOCUMENTED_AHEAD_OF_CODE does not outlive the change it waits for."""
    commands = _commands()
    landed = [f"{path} {opt} ({why})" for (path, opt), why in DOCUMENTED_AHEAD_OF_CODE.items()
              if opt in _options(commands[path])]
    assert not landed, ("these options now exist: remove them from DOCUMENTED_AHEAD_OF_CODE in tests/test_docs.py:\n  "
                        + "\n  ".join(landed))


def test_allocation_csv_columns_are_documented_in_order() -> None:
    """The allocation.csv bullet of docs/cli.md lists the file's columns, in the file's order."""
    from weiwen.model.payment import HEADER as CSV_HEADER  # the header allocation.csv is written with

    section = _sections(CLI_DOC.read_text(encoding="utf-8")).get("weiwen allocate", "")
    bullet = next((item for item in section.split("\n- ") if item.startswith("`allocation.csv`")), "")
    listed = re.search(r"列依次为：(.+?)。", bullet, flags=re.DOTALL)
    assert listed, "docs/cli.md, weiwen allocate: the `allocation.csv` item should say 列依次为：`户编码`、…。"
    documented = tuple(re.findall(r"`([^`]+)`", listed[1]))
    assert documented == tuple(CSV_HEADER), (f"docs/cli.md lists allocation.csv's columns as {'、'.join(documented)}; "
                                             f"the file has {'、'.join(CSV_HEADER)}")


# --- docs/rules.md against the rules schema ---------------------------------------------------------------

def _rules_model() -> type[BaseModel]:
    """The root model of a rules file: the type of what ``load_rules(...).rules`` is."""
    return type(load_rules(bundled_rules() / "spring.yaml").rules)


def _models_in(annotation: object) -> Iterator[tuple[type[BaseModel], bool]]:
    """The models a field holds, through Optional/unions, lists and dict values; True for a dict's values
    (whose keys are names the user chooses: 类别名、村名)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, False
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        yield from _models_in(args[0])
    elif origin is dict:
        for model, _ in _models_in(args[1]):
            yield model, True
    else:
        for arg in args:
            yield from _models_in(arg)


def _schema_keys() -> list[tuple[str, ...]]:
    """Every key a rules file can have, as its path from the top (standards, tiers, steps, min), the alias
    where a field has one (in, not); "*" stands for a name the user chooses (a category, a village).  A
    model met again below itself (conditions in all/any/not) is not walked again."""
    out: list[tuple[str, ...]] = []

    def walk(model: type[BaseModel], path: tuple[str, ...], seen: frozenset[type[BaseModel]]) -> None:
        for name, info in model.model_fields.items():
            key = path + (info.alias or name,)
            out.append(key)
            for inner, named in _models_in(info.annotation):
                if inner not in seen:
                    walk(inner, key + ("*",) if named else key, seen | {inner})

    root = _rules_model()
    walk(root, (), frozenset({root}))
    return out


def _code_keys(text: str) -> set[str]:
    """The keys inline code shows: `key`, the parts of `parent.key`, and key: inside `{key: …}` or `key: …`."""
    found: set[str] = set()
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if re.fullmatch(r"[A-Za-z_][\w.]*", span, flags=re.ASCII):
            found.update(span.split("."))
        found.update(re.findall(r"(?:^|[{,\s])([A-Za-z_]\w*):", span, flags=re.ASCII))
    return found


def _dotted(text: str) -> set[tuple[str, str]]:
    """(parent, key) pairs written as `…parent.key…` in inline code."""
    pairs = set()
    for span in re.findall(r"`([A-Za-z_][\w.]*)`", text, flags=re.ASCII):
        parts = span.split(".")
        pairs.update(itertools.pairwise(parts))
    return pairs


def test_every_rules_key_is_documented() -> None:
    """Each key of the rules schema appears in docs/rules.md as inline code (`key`, `parent.key` or
    `{key: …}`) in the section of one of its parent keys (“## standards”, “### 分档 tiers” …), or anywhere
    as `parent.key`.  A new key without docs fails here, naming its path."""
    doc = RULES_DOC.read_text(encoding="utf-8")
    sections = _sections(doc)
    anchored: dict[str, set[str]] = {}  # key named in a heading -> the keys its section shows
    for title, body in sections.items():
        for anchor in re.findall(r"[A-Za-z_]\w*", title, flags=re.ASCII):
            anchored.setdefault(anchor, set()).update(_code_keys(body))
    everywhere, dotted = _code_keys(doc), _dotted(doc)
    missing = []
    for path in _schema_keys():
        key, parents = path[-1], [p for p in path[:-1] if p != "*"]
        if not parents:
            ok = key in anchored or key in everywhere
        else:
            ok = (parents[-1], key) in dotted or any(key in anchored.get(p, ()) for p in parents)
        if not ok:
            missing.append(".".join(path))
    assert not missing, ("docs/rules.md does not document these rules keys (write them as `key` in their "
                         "section, or as `parent.key`):\n  " + "\n  ".join(dict.fromkeys(missing)))


# --- the rest ---------------------------------------------------------------------------------------------

def test_readme_commands_match_ci() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    assert len(blocks) >= 2
    assert blocks[1].strip() in ci


def test_the_example_campaigns_are_found_from_anywhere() -> None:
    """rules/ is the checkout's copy; setup.py copies it into installed packages (bundled_rules)."""
    assert {p.name for p in bundled_rules().glob("*.yaml")} == {p.name for p in (ROOT / "rules").glob("*.yaml")}
    assert find_campaign("county", cwd=ROOT / "docs") == bundled_rules() / "county.yaml"


# --- docs/hazards.md against the tests --------------------------------------------------------------------

def test_every_test_named_in_the_hazards_map_exists() -> None:
    """docs/hazards.md maps each row of the hazards list to tests as `tests/x.py::test_name`: each named
    test must exist, so that a renamed or deleted test cannot leave the map pointing at nothing."""
    import ast

    text = (ROOT / "docs" / "hazards.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(named) >= 100, "the map names fewer tests than it did when it was written"
    defined: dict[str, set[str]] = {}
    missing = []
    for file, name in sorted(named):
        if file not in defined:
            path = ROOT / file
            tree = ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
            defined[file] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} if tree else set()
        if name not in defined[file]:
            missing.append(f"{file}::{name}")
    assert not missing, "docs/hazards.md names tests that do not exist:\n  " + "\n  ".join(missing)
    rows = {int(n) for n in re.findall(r"^\| (\d+) \|", text, flags=re.M)}
    assert rows == set(range(1, 60)), "docs/hazards.md must have a line for each of the 59 rows"
