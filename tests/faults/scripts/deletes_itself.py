"""Removes its own file and moves away, then starts a spawn worker (which needs the file)."""

import multiprocessing
import os


def work():
    print("worker ran")


if __name__ == "__main__":
    os.remove(__file__)
    os.chdir("/")
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=work)
    p.start()
    p.join()
    raise SystemExit(p.exitcode)
