"""A multi-threaded server forks a worker directly (gunicorn-style prefork after threads start).

Python 3.12 and later warn at os.fork() in a process that has other threads ("This process is
multi-threaded, use of fork() may lead to deadlocks in the child"); 3.11 forks silently. The
worker itself works here, but any lock another thread held at that instant stays locked in the
child (see stdlib_fork_model_lock_deadlock.py).
Fix: fork before starting threads, or start workers with spawn/forkserver.
Source: CPython 3.12 (gh-100228); seen in uvicorn/gunicorn deployments with metrics threads.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# timeout = 30
#
# [[tool.mpcompat.expect]]
# when = ["python>=3.12"]
# verdict = "pass"
# signatures = ["fork-with-threads"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
# ///
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

if __name__ == "__main__":
    requests = ThreadPoolExecutor(4)  # the server's request threads
    for f in [requests.submit(time.sleep, 0.01) for _ in range(8)]:
        f.result()
    metrics = threading.Thread(target=time.sleep, args=(2,), daemon=True)
    metrics.start()
    pid = os.fork()
    if pid == 0:
        print("worker up", flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    requests.shutdown()
    raise SystemExit(os.waitstatus_to_exitcode(status))
