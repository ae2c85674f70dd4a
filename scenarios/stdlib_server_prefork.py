"""A healthy prefork model server: the baseline the other stdlib_server_* scenarios break.

Two workers accept on one socket; every predict request is answered under every start method
(the listening socket is passed to spawned workers by multiprocessing itself).
"""

# /// script
# [tool.mpcompat]
# timeout = 60
# args = ["--port", "{port}", "--workers", "{workers}"]
# expect = { fork = "pass", spawn = "pass", forkserver = "pass" }
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/health"
# ready_timeout = 20
#
# [[tool.mpcompat.serve.requests]]
# path = "/predict"
# json = { x = [1.0, 2.0] }
# contains = '"y": 0.0'
# count = 6
# ///
from _prefork import parse_args, run_server

WEIGHTS = [0.5, -0.25]


def predict(xs):
    return sum(w * x for w, x in zip(WEIGHTS, xs, strict=True))


if __name__ == "__main__":
    args = parse_args()
    run_server(predict, args.port, args.workers)
