"""The main process exits, leaving a child that forks and exits every millisecond for 60 s:
a process whose pid keeps changing (a hopper), always one alive."""

import os
import time

if os.fork() == 0:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        time.sleep(0.001)
        if os.fork() != 0:
            os._exit(0)  # the parent leaves; its child goes on under a new pid
    os._exit(0)
print("main done")
