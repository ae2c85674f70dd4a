"""Chooses spawn itself inside the main guard: must pass whatever the default is."""

import multiprocessing
import os


def work(q):
    q.put(multiprocessing.get_start_method())


if __name__ == "__main__":
    assert multiprocessing.get_start_method(allow_none=True) is None, "method already set"
    multiprocessing.set_start_method("spawn")
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=work, args=(q,))
    p.start()
    print("child method", q.get(), "default was", os.environ["MPCOMPAT_START_METHOD"])
    p.join()
