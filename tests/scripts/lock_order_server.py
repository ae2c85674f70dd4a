"""A threaded server whose handlers take two locks in alternating order: one request at a time
never deadlocks, two in flight together do (what only load shows). It names the answering
process in X-Worker-Pid. `lock_order_server.py PORT`."""

import itertools
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A, B = threading.Lock(), threading.Lock()
TURN = itertools.count()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        first, second = (A, B) if next(TURN) % 2 == 0 else (B, A)
        with first:
            time.sleep(0.3)  # the model's first stage
            with second:
                body = b"ok"
        self.send_response(200)
        self.send_header("X-Worker-Pid", str(os.getpid()))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
