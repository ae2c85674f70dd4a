"""Requests time out because forked workers inherit a locked model lock (KFServing 0.12 on CPU).

Broken pattern: the server keeps a background thread that uses the model (a batcher, a warm-up,
a metrics exporter) and forks its workers while that thread holds the model's lock. In every
forked worker the lock stays locked forever, so the server looks healthy (`/health` answers)
but every predict request times out: the "hang" users reported with workers >= 2.
Fix: spawn or forkserver workers, fork before starting threads, or load the model (and create
its lock) inside each worker.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# twin = "stdlib_server_prefork.py"
# timeout = 60
# args = ["--port", "{port}", "--workers", "{workers}"]
# expect = { fork = "hang", spawn = "pass", forkserver = "pass" }
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/health"
# ready_timeout = 20
# request_timeout = 5
#
# [[tool.mpcompat.serve.requests]]
# path = "/predict"
# json = { x = [1.0, 2.0] }
# count = 2
# ///
import threading
import time

from _prefork import parse_args, run_server

MODEL_LOCK = threading.Lock()
WEIGHTS = [0.5, -0.25]


def batcher():
    while True:
        with MODEL_LOCK:
            time.sleep(0.2)  # running a batch


def predict(xs):
    with MODEL_LOCK:
        return sum(w * x for w, x in zip(WEIGHTS, xs, strict=True))


if __name__ == "__main__":
    args = parse_args()
    threading.Thread(target=batcher, daemon=True).start()
    time.sleep(0.05)
    run_server(predict, args.port, args.workers)
