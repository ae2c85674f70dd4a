"""Fixed twin of `kserve_fork_after_torch_warmup.py`: the parent warms up with one OpenMP thread.

With `torch.set_num_threads(1)` before the warm-up, no OpenMP pool exists when KServe forks its
workers, so every predict is answered. The cost is one thread per worker, which is what a
multi-worker CPU server should use anyway (workers x threads <= cores).
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 serve every
request (one OpenMP thread: no hang, with torch 2.9.1, 2.11.0 and 2.13.0), then leave their
forked workers running and answering on SIGTERM (`leaked-processes`, `serving-after-stop`
measured on 0.11.2-0.13.1). KServe 0.14.0 serves from one process
when asked for two and exits 1 on SIGTERM (`workers-missing`, `unclean-shutdown`); 0.14.1 serves
from one process and stops cleanly (`workers-missing`); 0.15.2 to 0.21.0 serve from two spawned
workers and stop cleanly. The same on every Python each release supports (3.10-3.13; see the
report).
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
# signatures = ["leaked-processes", "serving-after-stop"]
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
