"""Engine started at module level, without a main guard (the SGLang `Engine(...)` incident).

Broken pattern: the script that builds the engine starts its worker processes at import time.
Under spawn and forkserver every child re-imports the main script, reaches the same line and
fails with "An attempt has been made to start a new process before the current process has
finished its bootstrapping phase". The launcher joins its dead worker and exits 0, which is why a
matrix must read the output, not only the exit code.
Fix: `stdlib_main_guard_fixed.py` (the same code under `if __name__ == "__main__":`).
Source: SGLang `Engine` and vLLM `LLM` scripts run under spawn; this twin needs only the stdlib.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# twin = "stdlib_main_guard_fixed.py"
# timeout = 30
#
# [tool.mpcompat.expect]
# fork = "pass"
# spawn = { verdict = "pass", signatures = ["spawn-main-guard-missing"] }
# forkserver = { verdict = "pass", signatures = ["spawn-main-guard-missing"] }
# ///
import multiprocessing


def engine_worker(rank):
    print(f"worker {rank} ready", flush=True)


workers = [multiprocessing.Process(target=engine_worker, args=(r,)) for r in range(2)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print("engine exit codes", [w.exitcode for w in workers])
