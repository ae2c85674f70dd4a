"""A server forces its start method after another library chose one (KServe < 0.14).

Broken pattern: `multiprocessing.set_start_method("fork")` in the server's start-up, after a
library imported earlier (torch.multiprocessing, a tokenizer, a metrics client) already called
`set_start_method`. The second call raises `RuntimeError: context has already been set` whatever
the platform default is.
Fix: `stdlib_start_method_checked.py`.
Source: kserve/kserve ModelServer(workers=2).start(), fixed in KServe 0.14.0.
"""

# /// script
# [tool.mpcompat]
# role = "mistake"
# twin = "stdlib_start_method_checked.py"
# timeout = 30
#
# [[tool.mpcompat.expect]]
# verdict = "crash"
# signatures = ["start-method-already-set"]
# ///
import multiprocessing


def serve(worker_id):
    print(f"worker {worker_id} serving", flush=True)


def library_import_side_effect():
    multiprocessing.set_start_method("spawn")


def start_server(workers):
    multiprocessing.set_start_method("fork")
    procs = [multiprocessing.Process(target=serve, args=(i,)) for i in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


if __name__ == "__main__":
    library_import_side_effect()
    start_server(workers=2)
