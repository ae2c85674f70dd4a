"""Starts one worker with a spawn context of its own and one with the default context."""

import multiprocessing


def work():
    pass


if __name__ == "__main__":
    for ctx in (multiprocessing.get_context("spawn"), multiprocessing):
        p = ctx.Process(target=work)
        p.start()
        p.join()
