"""Daemonizes the classic way: fork, setsid, fork again, parent exits."""

import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
    os._exit(0)
os.wait()
print("daemon started")
