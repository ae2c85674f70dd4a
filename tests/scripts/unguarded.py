"""Starts a worker at module level, with no main guard."""

import multiprocessing


def work():
    print("worker ran")


p = multiprocessing.Process(target=work)
p.start()
p.join()
print("main exits with worker exit code", p.exitcode)
