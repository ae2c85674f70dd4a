"""Hands a lambda to a worker: fine under fork, unpicklable under spawn and forkserver."""

import multiprocessing

if __name__ == "__main__":
    p = multiprocessing.Process(target=lambda: print("worker ran"))
    p.start()
    p.join()
    raise SystemExit(p.exitcode)
