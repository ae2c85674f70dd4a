"""Deadlocks for ever using no CPU: the main thread waits on a lock it holds, a thread on a
condition nobody signals, and a spawned child on a multiprocessing lock the parent holds."""

import multiprocessing
import threading


def child(lock):
    lock.acquire()


def waiter(cond):
    with cond:
        cond.wait()


if __name__ == "__main__":
    spawn = multiprocessing.get_context("spawn")
    held = spawn.Lock()
    held.acquire()
    spawn.Process(target=child, args=(held,)).start()
    cond = threading.Condition()
    threading.Thread(target=waiter, args=(cond,), daemon=True, name="waiter").start()
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()
