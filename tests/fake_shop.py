#!/usr/bin/env python3
"""A fake shop for the link-check end-to-end tests (stdlib only).

    python3 tests/fake_shop.py [PORT]     # PORT 0 or absent: a free port

Listens on 127.0.0.1 and prints exactly one line on stdout, `PORT <n>`, once
it is listening. Nothing else goes to stdout; requests are not logged.
SIGTERM or SIGINT stops it cleanly (exit status 0).

Routes (GET and HEAD; anything else is 404):
  /discount/<CODE>?redirect=<path>  302 to <path> (decoded; other query
                                    parameters appended), with
                                    `Set-Cookie: discount_code=<CODE>; Path=/`
  /products/<anything>              200 HTML
  /drop-query/<anything>            301 to /products/<anything>, query dropped
  /missing/<anything>               404
  /loop-a, /loop-b                  302 to each other, query kept
  /slow/<anything>                  200 after 15 s
  /relative/<anything>              302 to ../products/<anything>, query kept
"""

import html
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

SLOW_SECONDS = 15
# Characters left as they are when a decoded path goes back into Location.
LOCATION_SAFE = "/?&=%#:;,+@!$'()*~-._"


class Shop(BaseHTTPRequestHandler):
    server_version = "FakeShop/1.0"
    # Keep-alive, as real shops: workerd reuses connections (every response
    # carries Content-Length).
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base's name)
        pass

    def do_HEAD(self):
        self.route(body=False)

    def do_GET(self):
        self.route(body=True)

    def route(self, body):
        url = urlsplit(self.path)
        path, query = url.path, url.query
        keep = "?" + query if query else ""
        rest = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        if path.startswith("/discount/") and rest:
            code = unquote(rest)
            target, others = "/", []
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key == "redirect":
                    target = value
                else:
                    others.append((key, value))
            # A path on this shop only (no open redirect, even in a fixture).
            if not target.startswith("/") or target.startswith("//"):
                target = "/"
            if others:
                target += ("&" if "?" in target else "?") + urlencode(others)
            cookie = "discount_code=" + quote(code, safe="") + "; Path=/"
            self.redirect(302, target, body, [("Set-Cookie", cookie)])
        elif path.startswith("/products/"):
            page = "<!doctype html><title>Product</title><h1>{}</h1><p>{}</p>".format(
                html.escape(unquote(rest)), html.escape(query)
            )
            self.answer(200, page, body)
        elif path.startswith("/drop-query/") and rest:
            self.redirect(301, "/products/" + rest, body)
        elif path.startswith("/missing/"):
            self.answer(404, "<!doctype html><title>Not found</title>", body)
        elif path == "/loop-a":
            self.redirect(302, "/loop-b" + keep, body)
        elif path == "/loop-b":
            self.redirect(302, "/loop-a" + keep, body)
        elif path.startswith("/slow/"):
            time.sleep(SLOW_SECONDS)
            self.answer(200, "<!doctype html><title>Slow</title>", body)
        elif path.startswith("/relative/") and rest:
            self.redirect(302, "../products/" + rest + keep, body)
        else:
            self.answer(404, "<!doctype html><title>Not found</title>", body)

    def redirect(self, status, location, body, headers=()):
        self.send_response(status)
        self.send_header("Location", quote(location, safe=LOCATION_SAFE))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, status, page, body):
        data = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping /slow request does not delay exit
    block_on_close = False

    def handle_error(self, request, client_address):
        # Clients that give up (the worker's per-hop timeout) are expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server(("127.0.0.1", port), Shop)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print("PORT", server.server_address[1], flush=True)
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
