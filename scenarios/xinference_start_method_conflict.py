"""Xinference local deployment started by a program that chose its start method first:
"context has already been set".

Broken pattern: the user's program calls `multiprocessing.set_start_method("spawn")` (as CUDA
code is told to) and then starts Xinference's local deployment in-process. From 1.9.0,
`xinference.deploy.local.main` calls `multiprocessing.set_start_method("spawn")` without
`force=True` (1.8.1 and older set nothing there), so the program dies at start-up with
"RuntimeError: context has already been set", whatever the start method chosen, even "spawn".
Found by reading each release's deploy/local.py (1.8.1 has no call, 1.9.0 has it), and
measured (CPU, the published matrix): 4.1.0 (Python 3.12) crashes under every start method,
within 20 s; 1.2.2 (Python 3.11) serves under every one (and leaks its cluster after SIGTERM,
as `xinference_local_transformers.py` shows). Bisected (fork, Python 3.11, with the
dependencies of 1.9's time, matrices/constraints/xinference-1.9.txt): 1.8.1 serves (and leaks),
1.9.0 is the first release that crashes; reports/bisect/ has the probes.
Fix: let Xinference choose (do not set a start method before starting it), or set it with
`force=True` after; in a server of your own, check `get_start_method(allow_none=True)` first
(`stdlib_start_method_checked.py`).
Source: xinference/deploy/local.py and deploy/worker.py since 1.9.0; the same mistake as
KServe's `ModelServer(workers=2)` before 0.14.
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
# when = ["xinference>=1.9"]
# verdict = "crash"
# signatures = ["start-method-already-set"]
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
# count = 2
# ///
import multiprocessing

from _xinference_local import parse_port, serve

if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # the application's own choice, made first
    serve(parse_port())
