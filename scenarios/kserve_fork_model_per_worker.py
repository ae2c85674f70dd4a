"""Fixed twin of `kserve_fork_after_torch_warmup.py`: each worker loads and warms up its model.

The parent registers the model without touching torch; the first predict in each forked worker
builds the network there, so the OpenMP pool is created after fork, in the process that uses it.
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
from _kserve_model import TinyMLP, parse_args, serve

if __name__ == "__main__":
    args = parse_args()
    serve(TinyMLP(load_now=False), args.port, args.workers)
