"""Sends SIGSTOP to its parent (whatever started it) and exits 0."""

import os
import signal

os.kill(os.getppid(), signal.SIGSTOP)
print("stopped my parent")
