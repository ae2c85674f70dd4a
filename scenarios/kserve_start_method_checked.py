"""Fixed twin of `kserve_start_method_conflict.py`: take a context, leave the global alone.

The predictor still needs spawn for its own helper processes, but asks for a private context
(`torch.multiprocessing.get_context("spawn")`) instead of changing the process-wide default, so
KServe 0.12/0.13 can still set fork for its workers. Servers should do the same: check
`get_start_method(allow_none=True)` before setting, or use `get_context` themselves.
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
# verdict = "pass"
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/v1/models/mlp"
# ready_timeout = 60
#
# [[tool.mpcompat.serve.requests]]
# path = "/v1/models/mlp:predict"
# json = { instances = [[1.0, 2.0]] }
# contains = '"predictions"'
# count = 4
# ///
import torch.multiprocessing
from _kserve_model import TinyMLP, parse_args, serve


def square(x):
    return x * x


if __name__ == "__main__":
    args = parse_args()
    ctx = torch.multiprocessing.get_context("spawn")  # private: the global default is untouched
    with ctx.Pool(1) as pool:
        assert pool.map(square, [3]) == [9]
    serve(TinyMLP(load_now=False), args.port, args.workers)
