"""The fixed twin of `stdlib_main_guard_missing.py`: the engine starts under the main guard."""

# /// script
# [tool.mpcompat]
# timeout = 30
# expect = { fork = "pass", spawn = "pass", forkserver = "pass" }
# ///
import multiprocessing


def engine_worker(rank):
    print(f"worker {rank} ready", flush=True)


if __name__ == "__main__":
    workers = [multiprocessing.Process(target=engine_worker, args=(r,)) for r in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    raise SystemExit(max(w.exitcode for w in workers))
