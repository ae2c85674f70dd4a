"""Writes 32 MB to stdout and 32 MB to stderr."""

import os

block = b"y" * (1 << 20)
for _ in range(32):
    os.write(1, block)
    os.write(2, block)
os.write(1, b"\nthe end\n")
