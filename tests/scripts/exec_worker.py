"""Starts its worker as a new interpreter, as Ray's and BentoML's process managers do
(subprocess with preexec_fn); the worker says what it sees, starts a process with the default
start method and says which method that was."""

import os
import subprocess
import sys


def noop():
    pass


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        print("view", sorted(sys.modules), sys.path, sys.flags, flush=True)
        import multiprocessing

        proc = multiprocessing.Process(target=noop)
        proc.start()
        proc.join()
        print("worker default:", multiprocessing.get_start_method())
    else:
        subprocess.run([sys.executable, __file__, "worker"], preexec_fn=os.getpid, check=True)
