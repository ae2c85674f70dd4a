"""A prefork server in the manner of gunicorn: the main process binds the port and forks its
workers with os.fork (no multiprocessing at all), each serving on the inherited socket; on
SIGTERM it stops and reaps them. `os_fork_prefork.py PORT WORKERS [--orphan]`: with --orphan
the main process exits on SIGTERM at once and its workers go on serving; with --replace-once
the first worker dies at start and the main process forks one replacement, as gunicorn's
arbiter does."""

import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(sock):
    server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    replace_once = "--replace-once" in sys.argv
    children = []
    for n in range(workers):
        pid = os.fork()
        if pid == 0:
            if replace_once and n == 0:
                os._exit(3)  # a worker that fails to boot
            serve(sock)
        children.append(pid)

    def stop(*_):
        if "--orphan" in sys.argv:
            os._exit(0)
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    if replace_once:
        dead, _ = os.wait()
        children.remove(dead)
        pid = os.fork()
        if pid == 0:
            serve(sock)
        children.append(pid)
    while True:
        signal.pause()
