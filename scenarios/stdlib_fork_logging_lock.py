"""Fork while another thread is inside a logging call: safe, because CPython repairs it.

A server thread (metrics, heartbeat) holds a logging handler's lock at the moment the main
thread forks a worker. A plain lock would stay locked forever in the child
(`stdlib_fork_model_lock_deadlock.py`), but since Python 3.8 the logging module re-creates its
locks in a forked child (`os.register_at_fork`), so this cell passes under every method. It is
kept as the control for the model-lock deadlock: only locks nobody repairs at fork hang.
"""

# /// script
# [tool.mpcompat]
# timeout = 10
#
# [tool.mpcompat.expect]
# fork = "pass"
# spawn = "pass"
# forkserver = "pass"
# ///
import logging
import multiprocessing
import sys
import threading
import time


class SlowHandler(logging.StreamHandler):
    def emit(self, record):
        super().emit(record)
        time.sleep(0.5)  # a slow sink: the handler lock is held meanwhile


def heartbeat():
    while True:
        logging.info("heartbeat")


def worker():
    logging.info("worker started")
    print("worker finished", flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, handlers=[SlowHandler(sys.stderr)])
    threading.Thread(target=heartbeat, daemon=True).start()
    time.sleep(0.1)  # the heartbeat thread is now inside emit(), holding the lock
    p = multiprocessing.Process(target=worker)
    p.start()
    p.join()
    raise SystemExit(p.exitcode)
