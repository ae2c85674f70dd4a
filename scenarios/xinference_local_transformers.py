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
Measured (CPU, the published matrix): 1.2.2, 1.8.1 and 1.9.0 (Python 3.11, torch 2.13.0) serve
under all three methods (ready in 24-39 s, 3/3 completions) and, after SIGTERM, leave part of
the cluster running: always the model process, and by method the cluster process, its resource
tracker or its forkserver (`leaked-processes`). From 1.9.0 Xinference sets spawn itself, so
every method runs as spawn. 4.1.0 (Python 3.12) serves and stops cleanly.
Bisected (spawn, Python 3.12, the same mid-2025 dependencies for every probe:
matrices/constraints/xinference-1.9-to-4.1.txt, torch 2.13.0 and torchvision 0.28.0 from the
index; three bisections, their probes in reports/bisect/):
- 1.9.0 to 1.17.1 serve, and leak.
- 2.0.0 to 2.11.0 never serve the model: crash `workers-restarting` at the 240 s ready
  timeout, every launch's sub pool dying. Two causes, read in the logs of runs by hand:
  - 2.0.0 turned per-model virtual environments on by default (XINFERENCE_ENABLE_VIRTUAL_ENV).
    Xoscar makes them with `uv venv --system-site-packages` for the base interpreter, so an
    Xinference installed in a virtualenv is not importable there: "No module named 'xoscar'",
    then "Start sub pool failed, returncode: 1".
  - 2.4.0 adds the parent's site-packages to that environment (a .pth file). A model with a
    local `model_uri` then fails in a fresh XINFERENCE_HOME, because the cache folder it links
    into was never made: "FileNotFoundError: [Errno 2] ... -> .../cache/v2/<model>".
    2.12.0 makes that folder first.
- 2.12.0 to 4.0.1 serve, and leak.
- 4.1.0 is the first that stops cleanly. On POSIX its local deployment runs under a new host
  (deploy/api_host.py with LocalHost). Before, a cluster subprocess was only SIGKILLed from the
  API's `finally`, and its own children outlived it.
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
# when = ["xinference<2.0"]
# verdict = "pass"
# signatures = ["leaked-processes"]
#
# [[tool.mpcompat.expect]]
# when = ["xinference>=2.0,<2.12"]
# verdict = "crash"
# signatures = ["workers-restarting"]
#
# [[tool.mpcompat.expect]]
# when = ["xinference>=2.12,<4.1"]
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
