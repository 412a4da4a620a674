"""A real HTTP image API on loopback, pollinations-style, whose answers a test can script."""

from __future__ import annotations

import io
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


class ImageServer:
    """Answers GET /prompt/... with a PNG unless told otherwise: (status, headers, body, delay)."""

    def __init__(self) -> None:
        self.script: deque[tuple[int, dict, bytes, float]] = deque()
        self.requests: list[tuple[float, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                import time

                server.requests.append((time.monotonic(), self.path))
                status, headers, body, delay = (
                    server.script.popleft()
                    if server.script
                    else (200, {"Content-Type": "image/png"}, png(), 0.0)
                )
                time.sleep(delay)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer_next(
        self, status: int, body: bytes = b"", headers: dict | None = None, delay: float = 0.0
    ) -> None:
        self.script.append((status, headers or {"Content-Type": "text/plain"}, body, delay))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
