"""Run a scenario script as the real ``__main__`` with a chosen *default* start method.

The runner starts ``python bootstrap.pyc METHOD SCRIPT [ARGS...]``, with the script compiled by
the runner in the file that ``MPCOMPAT_MAIN_CODE`` names (taken out of the environment here).
This file then turns the interpreter into the one ``python SCRIPT ARGS`` would have made:
``sys.argv``, ``sys.path[0]`` and the ``__main__`` namespace are the script's, so spawned
children re-import the script exactly as they would for a user (a missing main guard fails the
same way).

The start method is installed as the interpreter's default, the way macOS or Python 3.14 have
one, not through ``set_start_method``: ``get_start_method(allow_none=True)`` still answers None
and a scenario that calls ``set_start_method`` itself behaves as it would there. The default is
applied when ``multiprocessing.context`` is first imported, so a scenario that never imports
multiprocessing pays nothing and sees an unchanged ``sys.modules``.

Only modules that every interpreter has loaded at start-up are used here; this file never
imports the rest of the plugin. Every name is a function local (``sys`` included) because the
``__main__`` namespace these functions were defined in is wiped before the script runs.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing would cost every cell a few milliseconds
if TYPE_CHECKING:
    from typing import Any


def _install_default_method(method: str, log: str | None) -> None:
    import sys

    record = _record_starts  # a local: module globals are gone by the time apply() runs

    def apply(ctx_module: Any) -> None:
        default = ctx_module._default_context
        if default._actual_context is None:
            default._default_context = ctx_module._concrete_contexts[method]
        if log:
            record(log)

    if "multiprocessing.context" in sys.modules:
        apply(sys.modules["multiprocessing.context"])
        return

    class DefaultMethodHook:
        """Meta-path finder that patches ``multiprocessing.context`` right after it executes."""

        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name != "multiprocessing.context":
                return None
            sys.meta_path.remove(self)
            from importlib.machinery import PathFinder

            spec = PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            loader = spec.loader
            original = loader.exec_module

            def exec_module(module: Any) -> None:
                del loader.exec_module  # back to the class's method
                original(module)
                apply(module)

            setattr(loader, "exec_module", exec_module)  # noqa: B010 - an instance override
            return spec

    sys.meta_path.insert(0, DefaultMethodHook())


def _record_starts(log: str) -> None:
    """Append the start method to ``log`` each time a process starts.

    Libraries often pick their own method (uvicorn and vLLM use spawn, KServe < 0.14 forces
    fork), so the default under test is not always the method in force. ``Process.start()``
    adds every started process to ``multiprocessing.process._children``; that set is replaced
    by one that also writes the method of the process's ``Popen``. Nothing wraps the start
    itself, so no frame of this file appears in a traceback of a failed start. A forked child
    gets a new, plain set: an after-fork hook replaces it again, so the main process and its
    forked children are recorded (spawned interpreters are new programs and are not). Forks
    are left to ``_record_forks``, which sees every one.
    """
    import os
    from multiprocessing import process, util

    class StartLog(set):  # type: ignore[type-arg]
        __slots__ = ()

        def add(self, proc: Any) -> None:
            set.add(self, proc)
            try:
                method = str(proc._popen.method)
                if method == "fork":
                    return  # the forked child records itself (_record_forks)
                line = (method + "\n").encode()
                fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
            except (AttributeError, OSError):  # a Popen without .method, a full disk
                pass

    def install(_: object = None) -> None:
        process._children = StartLog(process._children)  # type: ignore[attr-defined]

    install()
    util.register_after_fork(StartLog, install)


def _record_forks(log: str) -> None:
    """Every process forked from the cell's interpreters records "fork" itself, whoever forked
    it: multiprocessing's fork method, or ``os.fork`` as gunicorn and other prefork servers do,
    so a spawn column whose server forks its workers anyway reads "ran as fork".

    Two forks are not forked workers: ``subprocess`` with ``preexec_fn`` (Ray's and BentoML's
    workers) forks only to exec a new program at once, and a forkserver's children are counted
    as "forkserver" by the process that asked for them. The frame that called fork says which.
    """
    import os
    import sys

    def forked() -> None:
        try:
            caller = sys._getframe(1)  # what called fork (this runs inside the call)
        except ValueError:
            caller = None
        if caller is not None:
            where = caller.f_code.co_filename.replace("\\", "/")
            if where.endswith("/subprocess.py") and caller.f_code.co_name == "_execute_child":
                return
            if where.endswith("multiprocessing/forkserver.py"):
                return
        try:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b"fork\n")
            finally:
                os.close(fd)
        except OSError:
            pass

    os.register_at_fork(after_in_child=forked)


def in_new_interpreter() -> None:
    """Prepare an interpreter of the cell's tree other than its main one (a new program the
    cell started: a Ray or BentoML worker, a spawned child, a command's interpreter) as the
    platform's default would reach it: the cell's start method as its default, and its starts
    and forks recorded. ``pytest-mpcompat.pth`` runs this, where the package is installed, in
    every interpreter started with ``MPCOMPAT_BOOTSTRAP`` in its environment (a cell's); the
    main one is prepared by ``_main``. Nothing is imported and ``sys.path`` is left alone."""
    import os
    import sys

    method = os.environ.get("MPCOMPAT_START_METHOD")
    if not method or _prepared(sys):
        return  # (a site folder found twice, as lib and lib64, runs the .pth twice)
    log = os.environ.get("MPCOMPAT_METHODS_LOG")
    if log and hasattr(os, "register_at_fork"):
        _record_forks(log)
    _install_default_method(method, log)


def _prepared(sys: Any) -> bool:
    """Whether this interpreter was prepared already (its hook waits on ``sys.meta_path``, or
    has already put its record of starts in place)."""
    if any(type(finder).__name__ == "DefaultMethodHook" for finder in sys.meta_path):
        return True
    process = sys.modules.get("multiprocessing.process")
    return type(getattr(process, "_children", None)).__name__ == "StartLog"


def _compiled(code_file: str, path: str) -> Any:
    """The script's code as the runner compiled it (the same interpreter, so the same code:
    compiling here would cost a millisecond more, for the compiler's first call), or None."""
    import marshal
    import sys

    if not code_file:
        return None
    try:
        with open(code_file, "rb") as fh:
            optimize, filename, code = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if (optimize, filename) == (sys.flags.optimize, path) else None


def _run_as_main(script: str, args: list[str], code_file: str) -> None:
    import os
    import sys

    path = os.path.abspath(script)
    code = _compiled(code_file, path)
    if code is None:
        with open(path, "rb") as fh:
            source = fh.read()
    sys.argv[:] = [script, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))

    main = sys.modules["__main__"]
    namespace = main.__dict__
    builtins = namespace["__builtins__"]
    namespace.clear()
    from importlib.machinery import SourceFileLoader

    namespace.update(
        __name__="__main__",
        __doc__=None,
        __package__=None,
        __spec__=None,
        __file__=path,
        __cached__=None,
        __builtins__=builtins,
        __loader__=SourceFileLoader("__main__", path),
    )
    try:
        if code is None:
            code = compile(source, path, "exec", dont_inherit=True)
        exec(code, namespace)
    except SystemExit:
        raise  # the interpreter gives it its usual exit status and message
    except BaseException as exc:  # noqa: BLE001 - printed exactly as the interpreter would
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        if isinstance(exc, KeyboardInterrupt):
            # Let the interpreter finish as it does for `python script.py` (atexit, then death
            # by SIGINT), printing the traceback from the script's first frame on.
            hook, trimmed = sys.excepthook, tb
            sys.excepthook = lambda k, v, _: hook(k, v.with_traceback(trimmed), trimmed)
            raise
        # The traceback printed is the exception's own, so it is cut there. A SyntaxError has
        # no frame of the script: the interpreter prints none for it either.
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        del exc, tb
        raise SystemExit(1) from None


def _main() -> None:
    import os
    import sys

    method, script, *args = sys.argv[1:]
    code_file = os.environ.pop("MPCOMPAT_MAIN_CODE", "")  # the harness's: not for the script
    limit = os.environ.get("MPCOMPAT_MEMORY_LIMIT_MB")
    if limit:
        import resource

        size = int(limit) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    log = os.environ.get("MPCOMPAT_METHODS_LOG")
    if log and hasattr(os, "register_at_fork"):
        _record_forks(log)
    _install_default_method(method, log)
    _run_as_main(script, args, code_file)


if __name__ == "__main__":
    _main()
