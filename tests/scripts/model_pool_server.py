"""An inference server of a common shape: the main process serves HTTP and hands each request
to one of its model workers, started with multiprocessing; the worker answers with its pid.

`model_pool_server.py PORT WORKERS [--tracker before|after|worker]`: the workers start under
the default start method (the cell's); --tracker starts multiprocessing's resource tracker
before the workers, after them, or from inside each worker (a forked worker starts a tracker
of its own when none ran before it was forked).
"""

import argparse
import multiprocessing
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import resource_tracker


def model_worker(conn, own_tracker):
    if own_tracker:
        resource_tracker.ensure_running()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        try:
            conn.recv()
        except EOFError:
            return
        conn.send(os.getpid())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("workers", type=int)
    parser.add_argument("--tracker", choices=["before", "after", "worker"])
    args = parser.parse_args()
    ctx = multiprocessing.get_context()
    if args.tracker == "before":
        resource_tracker.ensure_running()
    pipes, procs = [], []
    for _ in range(args.workers):
        here, there = ctx.Pipe()
        proc = ctx.Process(target=model_worker, args=(there, args.tracker == "worker"))
        proc.start()
        pipes.append((here, threading.Lock()))
        procs.append(proc)
    if args.tracker == "after":
        resource_tracker.ensure_running()
    turn = iter(range(1 << 62))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            conn, lock = pipes[next(turn) % len(pipes)]
            with lock:
                conn.send("predict")
                pid = conn.recv()
            body = str(pid).encode()
            self.send_response(200)
            self.send_header("X-Worker-Pid", str(pid))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"serving on 127.0.0.1:{args.port} with {args.workers} model workers", flush=True)
    server.serve_forever()
    for proc in procs:
        proc.terminate()
        proc.join(5)


if __name__ == "__main__":
    main()
