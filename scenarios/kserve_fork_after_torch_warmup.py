"""KFServing workers >= 2 on CPU: every predict request times out (a hang, not a crash).

Broken pattern: the predictor warms the torch model up in the parent (a forward pass, which
starts torch's OpenMP thread pool), then KServe < 0.14 forks its uvicorn workers. The pool's
threads do not exist in the forked workers, and the first parallel region in a worker waits
for them forever: `/v1/models/mlp` answers (no torch there), every `:predict` times out.
KServe forces fork itself, so the platform default does not matter.
Fixes: `kserve_fork_one_omp_thread.py` (one OpenMP thread) and `kserve_fork_model_per_worker.py`
(load and warm up in each worker); spawned workers also work where the server allows them.
Source: kserve/kserve "requests time out with workers >= 2" (KFServing 0.12.1, CPU).
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 hang: they
fork their workers themselves ("ran as fork") and every predict times out; torch 2.9.1, 2.11.0
and 2.13.0 all do it (the OpenMP pool is torch's, whatever the release). KServe 0.14.0 serves
from one process when asked for two and exits 1 on SIGTERM (`workers-missing`, `unclean-
shutdown`); 0.14.1 serves from one process and stops cleanly (`workers-missing`); 0.15.2 to
0.21.0 serve from two spawned workers and stop cleanly. The same on every Python each release
supports (3.10-3.13; see the report).
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
# verdict = "hang"
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
# request_timeout = 5
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
    model = TinyMLP()
    model.predict({"instances": [[1.0, 2.0]]})  # warm-up in the parent
    print("warm-up done with", torch.get_num_threads(), "threads", flush=True)
    serve(model, args.port, args.workers)
