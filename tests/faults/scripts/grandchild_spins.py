"""The main process exits, leaving a grandchild in an endless loop."""

import subprocess
import sys

child = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'while True: pass'])"
subprocess.run([sys.executable, "-c", child], check=True)
print("main done")
