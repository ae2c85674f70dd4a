"""A stdlib HTTP server whose shutdown is chosen on the command line, the way real servers
differ: `http_server.py PORT [--on-sigterm default|exit0|exit1|ignore] [--on-sigint ...]
[--port2 PORT2]`. With --port2 a second server (answering "second") runs in a thread; a request
for /stuck never gets an answer (its handler waits forever, as one stuck in a lock would)."""

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    text = b"first"

    def do_GET(self):
        if self.path == "/stuck":
            threading.Event().wait()
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.text)))
        self.end_headers()
        self.wfile.write(self.text)

    def log_message(self, *args):
        pass


class Second(Handler):
    text = b"second"


def on(sig, how, server, codes):
    if how == "ignore":
        signal.signal(sig, signal.SIG_IGN)
    elif how in ("exit0", "exit1"):

        def stop(*_):
            codes.append(int(how[-1]))
            threading.Thread(target=server.shutdown).start()

        signal.signal(sig, stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--port2", type=int)
    parser.add_argument("--on-sigterm", default="default")
    parser.add_argument("--on-sigint", default="default")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.port2:
        second = ThreadingHTTPServer(("127.0.0.1", args.port2), Second)
        threading.Thread(target=second.serve_forever, daemon=True).start()
    codes = []
    on(signal.SIGTERM, args.on_sigterm, server, codes)
    on(signal.SIGINT, args.on_sigint, server, codes)
    server.serve_forever()
    if codes and codes[0]:
        raise RuntimeError("shutdown failed")  # what an unclean exit looks like: exit 1
    sys.exit(0)
