"""Fork while a batching thread holds the model lock: the forked worker deadlocks.

Broken pattern: the server warms the model up in a background thread (a batcher, a warm-up,
a metrics exporter calling into the model) that holds the model's lock, and the main thread
forks its workers meanwhile. Each child inherits the lock in its locked state; the thread that
would release it does not exist in the child, so the worker's first predict blocks forever and
every request to it times out.
Fix: start workers with spawn or forkserver, or fork before starting any thread, or create the
model (and its lock) inside each worker.
Source: the hang behind "requests time out with workers >= 2" in KFServing 0.12 on CPU.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# timeout = 5
#
# [tool.mpcompat.expect]
# fork = "hang"
# spawn = "pass"
# forkserver = "pass"
# ///
import multiprocessing
import threading
import time

MODEL_LOCK = threading.Lock()


def batcher(stop):
    while not stop.is_set():
        with MODEL_LOCK:
            time.sleep(0.2)  # running a batch


def predict(x):
    with MODEL_LOCK:
        return 2 * x


def worker(q):
    q.put(predict(21))


if __name__ == "__main__":
    stop = threading.Event()
    t = threading.Thread(target=batcher, args=(stop,))
    t.start()
    time.sleep(0.05)  # the batcher holds the lock now
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=worker, args=(q,))
    p.start()
    answer = q.get()
    stop.set()
    t.join()
    p.join()
    print("prediction", answer)
