"""Fixed twin of `kserve_fork_after_torch_warmup.py`: each worker loads and warms up its model.

The parent registers the model without touching torch; the first predict in each forked worker
builds the network there, so the OpenMP pool is created after fork, in the process that uses it.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 serve every
request, then leave their forked workers running, still answering on the port, when the main
process gets SIGTERM (`leaked-processes`, `serving-after-stop` measured on 0.11.2-0.13.1).
KServe 0.14.0 serves from one process when asked for two and exits 1 on SIGTERM
(`workers-missing`, `unclean-shutdown`); 0.14.1 serves from one process and stops cleanly
(`workers-missing`); 0.15.2 to 0.21.0 serve from two spawned workers and stop cleanly. The same
on every Python each release supports (3.10-3.13; see the report)."""

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
from _kserve_model import TinyMLP, parse_args, serve

if __name__ == "__main__":
    args = parse_args()
    serve(TinyMLP(load_now=False), args.port, args.workers)
