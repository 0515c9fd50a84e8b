"""Packaging hook (everything else is in pyproject.toml): the example campaigns kept in the
top-level rules/ folder (YAML and plan workbooks) are copied into the built package as weiwen/bundled_rules/, so an
installed weiwen finds `--campaign spring` the way a checkout does."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads rules/ from the checkout itself
        target = Path(self.build_lib, "weiwen", "bundled_rules")
        self.mkpath(str(target))
        folder = Path(__file__).parent.joinpath("rules")
        for source in sorted([*folder.glob("*.yaml"), *folder.glob("*.xlsx")]):  # each campaign in both forms
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPy})
