import os

os.write(1, b"ok \xff\xfe\xfd not utf-8 \x00 end\n")
os.write(2, b"\xc3\x28 broken sequence\n")
