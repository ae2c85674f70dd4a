"""A worker is killed (as by the OOM killer) and the launcher keeps serving on the rest.

Broken pattern: the launcher neither restarts nor reports dead workers. Every request is still
answered, by the survivors, so the main process looks healthy and exits 0; capacity silently
halves. The harness counts the workers that exist against the workers asked for
(`workers-missing`).
Fix: supervise workers (restart them and log their exit status), or run one worker per replica.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# twin = "stdlib_server_prefork.py"
# timeout = 60
# args = ["--port", "{port}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
# signatures = ["workers-missing"]
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/health"
# ready_timeout = 20
#
# [[tool.mpcompat.serve.requests]]
# path = "/predict"
# json = { x = [1.0, 2.0] }
# count = 4
# ///
import os
import signal
import time

from _prefork import parse_args, run_server, worker_main

WEIGHTS = [0.5, -0.25]


def predict(xs):
    return sum(w * x for w, x in zip(WEIGHTS, xs, strict=True))


def worker(sock, predict, rank):
    if rank == 0:
        os.kill(os.getpid(), signal.SIGKILL)  # stands in for the kernel's OOM killer
    time.sleep(0.5)  # loading the model
    worker_main(sock, predict, rank)


if __name__ == "__main__":
    args = parse_args()
    run_server(predict, args.port, args.workers, target=worker)
