"""moto's DynamoDB server with requests applied one at a time.

moto checks a DynamoDB condition expression and then writes, with no lock
between the two of its own: two racing conditional writes can both pass
(only the GIL makes it rare). Real DynamoDB applies a conditional write to
an item atomically, and redlease's contention and linearizability tests
rely on exactly that guarantee. Running each request under one lock gives
the emulator that guarantee, so those tests measure redlease rather than a
race inside the emulator. Connections are still accepted concurrently.

Usage: python moto_serial.py HOST PORT
"""

import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Build the whole response inside the lock: the write happens
            # while the app runs, not while the body is streamed.
            return list(app(environ, start_response))

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
