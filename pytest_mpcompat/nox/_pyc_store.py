"""Bytecode for a matrix environment, compiled once per source file and kept, as ccache does.

Run by the environment's own interpreter after an install: ``python _pyc_store.py STORE``.
Every ``.py`` file under its site-packages gets its ``__pycache__`` file, as pip or uv would
compile it at install, but one compiled before for the same interpreter (bytecode magic) and a
source with the same content, size and modification time is linked (or copied) from STORE
instead of compiled again; the rest are compiled in parallel and added to STORE. The files are
exactly those the interpreter itself would write: timestamp-checked, validated at import
against the source they sit beside. Standard library only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import py_compile
import shutil
import sys
import sysconfig
from concurrent.futures import ProcessPoolExecutor


def _key(path: str) -> str | None:
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None
    return f"{digest}-{int(st.st_mtime)}-{st.st_size}"


def _place(stored: str, target: str) -> bool:
    """``target`` as a link to ``stored`` (a copy across file systems); False if it failed."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        try:
            os.link(stored, tmp)
        except OSError:
            shutil.copyfile(stored, tmp)
        os.replace(tmp, target)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def _compile(job: tuple[str, str, str]) -> bool:
    source, target, stored = job
    try:
        py_compile.compile(source, cfile=target, doraise=True, quiet=2)
    except (py_compile.PyCompileError, OSError, ValueError):
        return False  # as at install: a file that does not compile gets no bytecode
    os.makedirs(os.path.dirname(stored), exist_ok=True)
    _place(target, stored)
    return True


def main(store: str) -> None:
    magic = importlib.util.MAGIC_NUMBER.hex()
    base = os.path.join(store, f"{sys.implementation.cache_tag}-{magic}")
    roots = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    linked, todo = 0, []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if not name.endswith(".py"):
                    continue
                source = os.path.join(folder, name)
                target = importlib.util.cache_from_source(source)
                if os.path.exists(target):
                    continue
                key = _key(source)
                if key is None:
                    continue
                stored = os.path.join(base, key[:2], key + ".pyc")
                if os.path.exists(stored) and _place(stored, target):
                    linked += 1
                else:
                    todo.append((source, target, stored))
    compiled = 0
    if todo:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            compiled = sum(pool.map(_compile, todo, chunksize=64))
    sys.stdout.write(f"bytecode: {linked} files from the store, {compiled} compiled\n")


if __name__ == "__main__":
    main(sys.argv[1])
