"""The fixed twin of `stdlib_start_method_conflict.py`: the server checks before it sets.

Either ask `get_start_method(allow_none=True)` and set a method only when none was chosen, or
(better) take a private context with `multiprocessing.get_context("fork")` and leave the global
default alone. Both patterns are shown; the cell must pass under every default.
"""

# /// script
# [tool.mpcompat]
# timeout = 30
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
# ///
import multiprocessing


def serve(worker_id):
    print(f"worker {worker_id} serving", flush=True)


def library_import_side_effect():
    multiprocessing.set_start_method("spawn")


def start_server(workers):
    if multiprocessing.get_start_method(allow_none=True) is None:
        multiprocessing.set_start_method("fork")
    ctx = multiprocessing.get_context()  # whatever is in force now
    procs = [ctx.Process(target=serve, args=(i,)) for i in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    raise SystemExit(max(p.exitcode for p in procs))


if __name__ == "__main__":
    library_import_side_effect()
    start_server(workers=2)
