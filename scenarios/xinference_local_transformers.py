"""Xinference local deployment serving a model through the transformers engine, under each start
method: start, launch, answer, stop, leave nothing behind.

Pattern: what `xinference-local` does, in the user's own program: supervisor and worker on
127.0.0.1, a model registered and launched through the RESTful client, completions requested
over HTTP, then the stop signal an orchestrator sends (SIGTERM). Xinference starts its local
cluster with the platform's default start method (the model's process pool with its own), so
fork (Linux up to 3.13), spawn (macOS, Windows) and forkserver (Linux from 3.14) each run here.
Xinference's health check of its cluster process is raised from 5 to 40 attempts (5 s apart,
XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD): a spawned or forkserver cluster imports Xinference
again before it answers, which took longer than the default 25 s on this 2-core machine under
load ("RuntimeError: Cluster is not available after multiple attempts",
`xinference-cluster-start-timeout`), so the default would measure the machine's speed.
Measured (CPU, the published matrix): 1.2.2 (Python 3.11, torch 2.13.0) serves under all three
methods (ready in about 30 s, 3/3 completions) and, after SIGTERM, leaves its cluster process,
the cluster's forkserver and resource tracker and the model process running
(`leaked-processes`); so does 1.8.1 (Python 3.11, the bisection probe of
`xinference_start_method_conflict.py`); 4.1.0 (Python 3.12) serves and stops cleanly. The
release between them that stopped the leak is not bisected.
Fix (1.2.2): stop the whole process group (what `kill -- -PGID` or a container runtime does),
not the API process alone.
Model: a tiny Llama built locally (_tiny_llama.py), registered as a custom model.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["xinference", "transformers", "torch", "tokenizers"]
#
# [tool.mpcompat]
# timeout = 300
# args = ["--port", "{port}"]
# env = { XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD = "40" }
#
# [[tool.mpcompat.expect]]
# when = ["xinference<1.9"]
# verdict = "pass"
# signatures = ["leaked-processes"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
#
# [tool.mpcompat.serve]
# workers = 1
# ready = "/v1/models/mpcompat-tiny-llama"
# ready_timeout = 240
# request_timeout = 60
# stop_timeout = 20
#
# [[tool.mpcompat.serve.requests]]
# path = "/v1/completions"
# json = { model = "mpcompat-tiny-llama", prompt = "hello world", max_tokens = 8 }
# contains = '"text_completion"'
# count = 3
# ///
from _xinference_local import parse_port, serve

if __name__ == "__main__":
    serve(parse_port())
