"""A model object holding a lock and a local loader function, handed to a worker.

Broken pattern: the server builds the model in the parent and passes it to its workers. Under
fork the worker inherits it; under spawn and forkserver the model is pickled and the lock
(and a lambda used as a loader) cannot be.
Fix: build the model inside the worker from picklable settings (a path, a config dict).
Source: common in KServe custom predictors and Ray Serve replicas holding clients or locks.
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
import threading


class Model:
    def __init__(self):
        self.lock = threading.Lock()
        self.weights = [0.5, -0.25]

    def predict(self, xs):
        with self.lock:
            return sum(w * x for w, x in zip(self.weights, xs, strict=True))


def worker(model, q):
    q.put(model.predict([1.0, 2.0]))


if __name__ == "__main__":
    model = Model()
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=worker, args=(model, q))
    p.start()
    print("prediction", q.get(timeout=20))
    p.join()
