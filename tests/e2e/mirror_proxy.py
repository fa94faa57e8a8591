"""A loopback proxy to the workstation's mirror that a test can kill (test helper only).

Usage: python mirror_proxy.py UPSTREAM PORT. It serves GET/HEAD by fetching
UPSTREAM + path. Killing it leaves a loopback address with nothing behind it.
"""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    upstream, port = sys.argv[1].rstrip("/"), int(sys.argv[2])

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self, head: bool) -> None:
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=60) as response:
                    self.send_response(response.status)
                    for key in ("Content-Type", "Content-Length", "Last-Modified"):
                        if response.headers.get(key):
                            self.send_header(key, response.headers[key])
                    self.end_headers()
                    if not head:
                        shutil.copyfileobj(response, self.wfile, 1024 * 1024)
            except urllib.error.HTTPError as error:
                self.send_error(error.code)
            except (urllib.error.URLError, OSError):
                self.send_error(502)

        def do_GET(self) -> None:
            self._forward(False)

        def do_HEAD(self) -> None:
            self._forward(True)

        def log_message(self, *args) -> None:
            pass

    # The same port after a restart: the mirror URL is part of the base cache's key.
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
