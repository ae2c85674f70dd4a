"""A thread holds the lock the worker needs while the main thread starts the worker.

Under fork the child inherits the lock in its locked state and waits forever; under spawn and
forkserver the child has a fresh lock and finishes.
"""

# /// script
# [tool.mpcompat]
# timeout = 2
# expect = { fork = "hang", spawn = "pass", forkserver = "pass" }
# ///
import multiprocessing
import threading
import time

LOCK = threading.Lock()


def holder(release):
    with LOCK:
        release.wait()


def worker():
    with LOCK:
        print("worker got the lock")


if __name__ == "__main__":
    release = threading.Event()
    t = threading.Thread(target=holder, args=(release,))
    t.start()
    time.sleep(0.05)
    p = multiprocessing.Process(target=worker)
    p.start()
    release.set()
    t.join()
    p.join()
    print("main done, worker exit code", p.exitcode)
