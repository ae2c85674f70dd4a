"""Run a scenario script as the real ``__main__`` with a chosen *default* start method.

The runner starts ``python _bootstrap.py METHOD SCRIPT [ARGS...]``. This file then turns the
interpreter into the one ``python SCRIPT ARGS`` would have made: ``sys.argv``, ``sys.path[0]``
and the ``__main__`` namespace are the script's, so spawned children re-import the script
exactly as they would for a user (a missing main guard fails the same way).

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
            for cls in (
                ctx_module._concrete_contexts[m].Process for m in ctx_module._concrete_contexts
            ):
                record(cls, log)

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


def _record_starts(cls: Any, log: str) -> None:
    """Append the start method to ``log`` each time a process of ``cls`` starts.

    Libraries often pick their own method (uvicorn and vLLM use spawn, KServe < 0.14 forces
    fork), so the default under test is not always the method in force. This records, without
    changing, what the main process and its forked children really used.
    """
    import os

    start = cls.__dict__["_Popen"].__func__
    line = (cls._start_method + "\n").encode()

    def _Popen(process_obj: Any) -> Any:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return start(process_obj)

    cls._Popen = staticmethod(_Popen)


def _run_as_main(script: str, args: list[str]) -> None:
    import os
    import sys

    path = os.path.abspath(script)
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
    code = compile(source, path, "exec", dont_inherit=True)
    try:
        exec(code, namespace)
    except (SystemExit, KeyboardInterrupt):
        raise  # the interpreter gives these their usual exit status
    except BaseException as exc:  # noqa: BLE001 - printed exactly as the interpreter would
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        sys.excepthook(type(exc), exc, tb or exc.__traceback__)
        del exc, tb
        raise SystemExit(1) from None


def _main() -> None:
    import os
    import sys

    method, script, *args = sys.argv[1:]
    limit = os.environ.get("MPCOMPAT_MEMORY_LIMIT_MB")
    if limit:
        import resource

        size = int(limit) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    _install_default_method(method, os.environ.get("MPCOMPAT_METHODS_LOG"))
    _run_as_main(script, args)


if __name__ == "__main__":
    _main()
