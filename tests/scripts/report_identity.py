"""Prints what a script can observe about how it was started."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    print("argv", sys.argv[1:])
    print("file", os.path.basename(__file__))
    print("path0", os.path.basename(sys.path[0]))
    print("spec", __spec__)
    print("allow_none", multiprocessing.get_start_method(allow_none=True))
    print("method", multiprocessing.get_start_method())
    print("stdin", sys.stdin is None or sys.stdin.read() == "")
    print("sid", os.getsid(0) == os.getpid())
