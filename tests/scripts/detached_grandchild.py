"""Leaves a grandchild behind in its own session and exits 0."""

import subprocess
import sys

code = "import os, time; os.setsid(); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", code])
print("launched a detached grandchild")
