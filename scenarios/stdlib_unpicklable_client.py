"""A predictor holding an open client, and a pool whose loader is a local function.

Broken pattern: the predictor keeps an open database connection (a feature-store client) and
the server hands it, with a loader that is a local function, to the worker it starts. Under fork
both are inherited; under spawn and forkserver both have to be pickled and neither can be
("cannot pickle 'sqlite3.Connection' object", "Can't pickle local object").
Measured on the way: a concurrent.futures.ProcessPoolExecutor pickles the callable of every task,
even under fork, so `pool.map(predictor, ...)` fails under every start method.
Fix: open clients inside the worker (in a module-level initializer), pass only settings.
Source: Ray Serve and KServe custom predictors holding DB or HTTP clients.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# timeout = 30
#
# [tool.mpcompat.expect]
# fork = "pass"
# spawn = { verdict = "crash", signatures = ["unpicklable-target"] }
# forkserver = { verdict = "crash", signatures = ["unpicklable-target"] }
# ///
import multiprocessing
import sqlite3


class Predictor:
    def __init__(self):
        self.features = sqlite3.connect(":memory:", check_same_thread=False)
        self.features.execute("create table f (k text, v real)")
        self.features.execute("insert into f values ('bias', 0.5)")

    def __call__(self, x):
        (bias,) = self.features.execute("select v from f where k = 'bias'").fetchone()
        return 2 * x + bias


def worker(predictor, load, q):
    load()
    q.put([predictor(x) for x in (1.0, 2.0)])


def main():
    predictor = Predictor()

    def load_model():  # a local function as the worker's loader
        print("model loaded", flush=True)

    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=worker, args=(predictor, load_model, q))
    p.start()
    print("predictions", q.get(timeout=20))
    p.join()


if __name__ == "__main__":
    main()
