"""Everything is in pyproject.toml but one file: ``pytest-mpcompat.pth``, installed at the top of
site-packages (a wheel's and an editable install's), which prepares the other interpreters of a
cell's tree (``pytest_mpcompat/_child/bootstrap.py: in_new_interpreter``). It does nothing
in an interpreter whose environment has no ``MPCOMPAT_BOOTSTRAP``: every one outside a cell."""

from __future__ import annotations

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = os.path.join("pytest_mpcompat", "_child", "pytest-mpcompat.pth")


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_file(PTH, os.path.join(self.build_lib, os.path.basename(PTH)))


class EditableWheelWithPth(editable_wheel):
    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):  # type: ignore[no-untyped-def]
        found = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        shutil.copy(PTH, os.path.join(unpacked_wheel, os.path.basename(PTH)))
        return found


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
