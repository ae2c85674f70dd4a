"""Fixed twin for KServe < 0.14: hand the start-method choice back before the server starts.

Same predictor as `kserve_start_method_conflict.py` (spawn for its own helper pool), but once its
own processes are done it resets the global choice with `set_start_method(None, force=True)`,
so KServe 0.12/0.13 can set fork for its workers. On KServe >= 0.14 nothing needs handing back.
The right pattern for a server itself is in `stdlib_start_method_checked.py`.
Measured (CPU, torch 2.13.0 unless said, every start method; 0.10.2 and 0.11.2 with
cloudevents<2 and setuptools<82, which they need to import): KServe 0.10.2-0.13.1 serve every
request (the script hands the start method back, "ran as spawn+fork"), then leave their forked
workers running and answering on SIGTERM (`leaked-processes`, `serving-after-stop` measured on
0.11.2-0.13.1). KServe 0.14.0 serves from one process when
asked for two and exits 1 on SIGTERM (`workers-missing`, `unclean-shutdown`); 0.14.1 serves from
one process and stops cleanly (`workers-missing`); 0.15.2 to 0.21.0 serve from two spawned
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
    ctx = torch.multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.map(square, [3]) == [9]
    torch.multiprocessing.set_start_method(None, force=True)  # hand the choice back
    serve(TinyMLP(load_now=False), args.port, args.workers)
