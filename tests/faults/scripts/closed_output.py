import os
import sys

os.close(1)
os.close(2)
print("nobody hears this")
sys.exit(0)
