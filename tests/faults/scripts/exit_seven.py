import os

print("leaving without cleanup", flush=True)
os._exit(7)
