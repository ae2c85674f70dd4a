"""The server never becomes ready: its spawned workers die at start and are replaced forever.

Broken pattern: the model class is defined inside the main guard and the supervisor restarts
dead workers (as uvicorn and gunicorn do). Under spawn and forkserver each worker unpickles the
model, cannot find its class in the re-imported main module, dies, and is restarted. From
outside this looks like a slow server; the harness tells the two apart by the worker churn.
Fix: define model classes and worker functions at module level.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# twin = "stdlib_server_prefork.py"
# timeout = 60
# args = ["--port", "{port}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# methods = ["fork"]
# verdict = "pass"
#
# [[tool.mpcompat.expect]]
# methods = ["spawn", "forkserver"]
# verdict = "crash"
# signatures = ["workers-restarting", "mp-main-attribute-missing"]
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/health"
# ready_timeout = 6
#
# [[tool.mpcompat.serve.requests]]
# path = "/predict"
# json = { x = [1.0, 2.0] }
# ///
from _prefork import parse_args, run_server

if __name__ == "__main__":

    class Model:
        weights = [0.5, -0.25]

        def predict(self, xs):
            return sum(w * x for w, x in zip(self.weights, xs, strict=True))

    args = parse_args()
    run_server(Model().predict, args.port, args.workers, restart=True)
