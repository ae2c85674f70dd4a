"""KServe ModelServer(workers=2) after torch chose a start method: "context has already been set".

Broken pattern: the predictor module calls `torch.multiprocessing.set_start_method("spawn")`
(common in CUDA code) and then starts `kserve.ModelServer(workers=2)`. KServe 0.12 and 0.13
call `multiprocessing.set_start_method("fork")` unconditionally before forking their uvicorn
workers, so the server dies at start-up whatever the platform default is. KServe 0.14.0 no
longer sets the global start method.
Fix on the user side for KServe < 0.14: `kserve_start_method_handed_back.py`; the right pattern
for a server is in `stdlib_start_method_checked.py`.
Source: kserve/kserve issue "ModelServer(workers=2) raises RuntimeError: context has already
been set"; fixed in 0.14.0.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 crash at
start-up with "context has already been set" under every start method. KServe 0.14.0 serves from
one process when asked for two and exits 1 on SIGTERM (`workers-missing`, `unclean-shutdown`);
0.14.1 serves from one process and stops cleanly (`workers-missing`); 0.15.2 to 0.21.0 serve
from two spawned workers and stop cleanly. The same on every Python each release supports
(3.10-3.13; see the report).
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

if __name__ == "__main__":
    args = parse_args()
    torch.multiprocessing.set_start_method("spawn")  # e.g. for CUDA, before the server starts
    serve(TinyMLP(load_now=False), args.port, args.workers)
