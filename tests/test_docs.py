"""Docs stay true: every command and option is documented, the error catalogue is current."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from weiwen.core import problems as P
from weiwen.cli import app
from weiwen.rules import bundled_rules, find_campaign

ROOT = Path(__file__).parent.parent


def test_error_catalogue_doc_is_current() -> None:
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == P.catalogue_markdown()


def test_every_code_has_a_chinese_message() -> None:
    for k in P.all_kinds():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", k.code), k.code
        assert re.search(r"[\u4e00-\u9fff]", k.template) and re.search(r"[\u4e00-\u9fff]", k.title), k.code


def test_every_command_and_option_is_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        commands.extend((f"{name} {s}", c) for s, c in sub.items()) if sub else commands.append((name, cmd))
    for name, cmd in commands:
        assert f"## weiwen {name}" in doc, name
        assert cmd.help and re.search(r"[\u4e00-\u9fff]", cmd.help), name
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in doc, f"{name} {opt}"


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
