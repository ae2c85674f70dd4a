# /// script
# [tool.mpcompat]
# max_processes = 20
# timeout = 30
# ///
import os
import time

for _ in range(12):
    os.fork()  # 4096 processes if nothing stops it
time.sleep(60)
