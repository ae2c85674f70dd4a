"""Fixed twin of `kserve_fork_after_torch_warmup.py`: the parent warms up with one OpenMP thread.

With `torch.set_num_threads(1)` before the warm-up, no OpenMP pool exists when KServe forks its
workers, so every predict is answered. The cost is one thread per worker, which is what a
multi-worker CPU server should use anyway (workers x threads <= cores).
Measured (CPU torch 2.13.0, Python 3.11, every start method): KServe 0.12/0.13 fork their
workers themselves and leave them running when the main process gets SIGTERM
(`leaked-processes`); KServe 0.14.0 and 0.14.1 accept workers=2 but serve from one process
(`workers-missing`); KServe 0.21.0 runs two spawned uvicorn workers and stops cleanly.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["kserve>=0.10", "torch"]
#
# [tool.mpcompat]
# timeout = 120
# args = ["--port", "{port}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve<0.14"]
# verdict = "pass"
# signatures = ["leaked-processes"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve>=0.14,<0.14.1"]
# verdict = "pass"
# signatures = ["workers-missing", "unclean-shutdown"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve>=0.14.1,<0.15"]
# verdict = "pass"
# signatures = ["workers-missing"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/v1/models/mlp"
# ready_timeout = 60
# request_timeout = 10
#
# [[tool.mpcompat.serve.requests]]
# path = "/v1/models/mlp:predict"
# json = { instances = [[1.0, 2.0]] }
# contains = '"predictions"'
# count = 2
# ///
import torch
from _kserve_model import TinyMLP, parse_args, serve

if __name__ == "__main__":
    args = parse_args()
    torch.set_num_threads(1)
    model = TinyMLP()
    model.predict({"instances": [[1.0, 2.0]]})  # warm-up in the parent, one thread
    serve(model, args.port, args.workers)
