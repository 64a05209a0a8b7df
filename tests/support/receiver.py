"""A webhook receiver on loopback for the tests: records what it is sent and answers as told
(fail the first N attempts, hang, redirect, or be down); and what a receiver written from
Akool's documentation does with a body (API.md section 6), written here from the documented
algorithm, not with reelsmith's code."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


@dataclass
class Receiver:
    fail_first: int = 0
    hang_seconds: float = 0.0
    redirect_to: str | None = None
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    received_headers: list[dict[str, str]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (the name http.server wants)
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with receiver.lock:
                    receiver.received.append(body)
                    receiver.received_headers.append({k.lower(): v for k, v in self.headers.items()})
                    attempt = len(receiver.received)
                if receiver.hang_seconds:
                    time.sleep(receiver.hang_seconds)
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("location", receiver.redirect_to)
                elif attempt <= receiver.fail_first:
                    self.send_response(500)
                else:
                    self.send_response(receiver.status)
                    if receiver.status == 200:
                        with receiver.lock:
                            receiver.accepted.append(body)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def receiver_decrypt(body: dict[str, Any], client_id: str, api_key: str) -> dict[str, Any]:
    """What a receiver written from Akool's documentation does with a body."""
    parts = sorted([client_id, str(body["timestamp"]), str(body["nonce"]), body["dataEncrypt"]])
    assert hashlib.sha1("".join(parts).encode()).hexdigest() == body["signature"], "signature mismatch"
    cipher = Cipher(algorithms.AES(api_key.encode("utf-8")), modes.CBC(client_id.encode("utf-8")))
    decryptor = cipher.decryptor()
    padded = decryptor.update(base64.b64decode(body["dataEncrypt"])) + decryptor.finalize()
    pad = padded[-1]
    assert 1 <= pad <= 16 and padded.endswith(bytes([pad]) * pad), "bad PKCS#7 padding"
    return json.loads(padded[:-pad].decode("utf-8"))  # type: ignore[no-any-return]
