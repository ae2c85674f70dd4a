"""KServe ModelServer(workers=2) with nothing else in the way: how many workers serve, and how
it stops.

Pattern: the plain multi-worker deployment of a torch predictor (gRPC off). What each release
does with it differs, and none of it fails at start-up, so only a real run shows it: KServe
< 0.14 forks two uvicorn workers itself whatever the platform's start method, then dies on
SIGTERM leaving them running; 0.14.x accepts workers=2 but serves from one process (0.14.0
also exits 1 on SIGTERM: a TypeError in uvicorn's signal capture); newer releases run two
spawned uvicorn workers and exit cleanly.
Fix: upgrade to a release measured clean here, or run one worker per replica and scale replicas.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 serve from two
forked workers, then die by SIGTERM and leave both running, still answering on the port
(`leaked-processes`, `serving-after-stop` measured on 0.11.2-0.13.1, "ran as fork").
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
# when = ["kserve>=0.15"]
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
from _kserve_model import TinyMLP, parse_args, serve

if __name__ == "__main__":
    args = parse_args()
    serve(TinyMLP(load_now=False), args.port, args.workers)
