"""Fixed twin of `kserve_fork_after_torch_warmup.py`: the parent warms up with one OpenMP thread.

With `torch.set_num_threads(1)` before the warm-up, no OpenMP pool exists when KServe forks its
workers, so every predict is answered. The cost is one thread per worker, which is what a
multi-worker CPU server should use anyway (workers x threads <= cores).
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["kserve>=0.12.1", "torch"]
#
# [tool.mpcompat]
# timeout = 120
# args = ["--port", "{port}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve<0.14"]
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
