"""KServe with gRPC and two workers: SIGTERM stops the gRPC server, then the process never exits.

Pattern: `ModelServer(workers=2, enable_grpc=True)`, the default deployment of a KServe
predictor. On SIGTERM (what Kubernetes sends first) KServe < 0.14 stops its gRPC server, so
`asyncio.run` returns; the main process then blocks in multiprocessing's exit handler, joining
the uvicorn workers it forked, which no one signalled (only the main process gets SIGTERM). The
pod stays Terminating until the grace period runs out and the kubelet sends SIGKILL. A harness
that follows SIGTERM with SIGINT sees a clean exit: the interrupt breaks the join.
Fix: upgrade KServe (0.14 no longer forks workers this way), or run one worker per replica; a
server of your own must terminate and join its workers on SIGTERM.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 serve every
request, then are still running after SIGTERM (`shutdown-timeout`, "ran as fork"); the stacks
show the main process joining its workers in the exit handler. KServe 0.14.0 serves from one
process when asked for two and exits 1 on SIGTERM (`workers-missing`, `unclean-shutdown`);
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
# args = ["--port", "{port}", "--grpc-port", "{port2}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve<0.14"]
# verdict = "hang"
# signatures = ["shutdown-timeout"]
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
# stop_timeout = 10
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
    serve(TinyMLP(load_now=False), args.port, args.workers, grpc_port=args.grpc_port)
