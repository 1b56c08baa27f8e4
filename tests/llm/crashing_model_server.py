"""A stand-in for `python -m llama_cpp.server` whose build is wrong for this CPU.

It answers GET /v1/models like llama.cpp does once the weights are mapped, then dies from SIGILL on
the first completion, exactly as the Zen 4 build with AVX-VNNI did (`--crash-after N` answers N
completions first; `--linger S` drops the connection S seconds before dying, as a dying process closes its
sockets a moment before its exit status can be read). Run: python crashing_model_server.py --port P
[--crash-after N] [--linger S]
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--crash-after", type=int, default=0)
    parser.add_argument("--linger", type=float, default=0.0)
    args, _ = parser.parse_known_args()
    answered = 0

    class Handler(BaseHTTPRequestHandler):
        def _json(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._json({"object": "list", "data": [{"id": "fake", "object": "model"}]})

        def do_POST(self) -> None:  # noqa: N802
            nonlocal answered
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if answered >= args.crash_after:
                # Like an illegal instruction: this very thread takes SIGILL and the reply is never sent.
                # (os.kill on the process let another thread take the signal while this one still
                # replied "OK" now and then: the probe saw a working server and the test failed.)
                if args.linger:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    time.sleep(args.linger)
                signal.pthread_kill(threading.get_ident(), signal.SIGILL)
                threading.Event().wait()  # never reached: the default action ends the process
            answered += 1
            self._json({"id": "x", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}]})

        def log_message(self, *a: object) -> None:
            pass

    print(f"fake model server on {args.port}, crashing after {args.crash_after} completion(s)", flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
