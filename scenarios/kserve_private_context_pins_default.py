"""A private spawn context still breaks KServe < 0.14: it pins the global start method.

Pattern: the predictor needs spawn for a helper pool and, knowing the global default is shared,
takes a private context (`torch.multiprocessing.get_context("spawn")`) instead of calling
`set_start_method`. That is not enough: starting a spawn process asks
`multiprocessing.get_start_method()` (without allow_none) for the preparation data, which fixes
the *global* default as a side effect, so KServe 0.12/0.13's unconditional
`set_start_method("fork")` still raises "context has already been set".
Fix: `kserve_start_method_handed_back.py`, or KServe >= 0.14.
Source: measured with KServe 0.13.1 and CPU torch 2.13.0; CPython multiprocessing/spawn.py.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 crash at
start-up (`start-method-already-set`); their spawn helper dies with the server.
KServe 0.14.0 serves from one process when asked for two and exits 1 on SIGTERM
(`workers-missing`, `unclean-shutdown`); 0.14.1 serves from one process and stops cleanly
(`workers-missing`); 0.15.2 to 0.21.0 serve from two spawned workers and stop cleanly. The same
on every Python each release supports (3.10-3.13; see the report).
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
# verdict = "crash"
# signatures = ["start-method-already-set"]
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
