"""Busy for ever: a spawned child computes without end while the main process waits for it."""

import multiprocessing


def spin():
    n = 0
    while True:
        n += 1


if __name__ == "__main__":
    worker = multiprocessing.get_context("spawn").Process(target=spin)
    worker.start()
    worker.join()
