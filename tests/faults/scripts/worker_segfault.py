"""A worker segfaults; the launcher only reports its exit code and exits 0."""

import ctypes
import multiprocessing


def work():
    ctypes.string_at(0)


if __name__ == "__main__":
    p = multiprocessing.Process(target=work)
    p.start()
    p.join()
    print("worker exit code", p.exitcode)
