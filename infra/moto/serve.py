"""Serve moto on loopback, one request at a time, for as long as the parent lives.

Why not `moto_server`: its threaded server can interleave two TransactWriteItems and break
their atomicity, so races that DynamoDB forbids would pass or fail at random. A single-threaded
server makes every request atomic, which is what the tests that race need.

Prints `PORT <n>` on its first line once it is listening (pass --port 0 for a free port),
and exits when its standard input closes, so a crashed test run never leaves it behind.
"""

import argparse
import os
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("moto must listen on loopback only")

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=False)
    print(f"PORT {server.port}", flush=True)

    def exit_with_parent() -> None:
        # Blocks until the parent closes our stdin (on exit, crash or Ctrl-C).
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
