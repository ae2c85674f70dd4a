"""A small prefork HTTP model server on the standard library, shared by the stdlib_server_*
scenarios: the parent binds one socket on 127.0.0.1 and its workers (started with the default
multiprocessing context) all accept on it, the way gunicorn or KServe < 0.14 run workers.
SIGTERM or SIGINT stops the workers and exits 0.
"""

import argparse
import json
import multiprocessing
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args()


def worker_main(sock, predict, rank):
    # A forked worker inherits the parent's handlers, which only set a flag: without this reset
    # Process.terminate() (SIGTERM) would be ignored and shutdown would need SIGKILL.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, {"status": "ok", "worker": rank})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            inputs = json.loads(self.rfile.read(length))["x"]
            self._send(200, {"y": predict(inputs), "worker": rank, "pid": os.getpid()})

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.serve_forever()


def run_server(predict, port, workers, restart=False, target=worker_main):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    procs = {}
    stopping = []

    def start(rank):
        p = multiprocessing.Process(target=target, args=(sock, predict, rank), daemon=True)
        p.start()
        procs[rank] = p

    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    for rank in range(workers):
        start(rank)
    print(f"serving on 127.0.0.1:{port} with {workers} workers", flush=True)
    while not stopping:
        time.sleep(0.1)
        for rank, p in list(procs.items()):
            if restart and not p.is_alive():
                print(
                    f"worker {rank} exited with {p.exitcode}; restarting",
                    file=sys.stderr,
                    flush=True,
                )
                start(rank)
    for p in procs.values():
        p.terminate()
    for p in procs.values():
        p.join(5)
