# /// script
# [tool.mpcompat]
# memory_limit_mb = 300
# ///
hog = []
while True:
    hog.append(bytearray(50 * 1024 * 1024))
