"""A webhook receiver for reelsmith (and Akool): verifies the signature, decrypts the payload.

    pip install cryptography
    REELSMITH_CLIENT_ID=... REELSMITH_API_KEY=... python webhook_receiver.py 9000

Point a task's ``webhookUrl`` at http://<this host>:9000/. Answer HTTP 200 quickly: anything
else (or no answer within the sender's timeout) makes the server try again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def verify_and_decrypt(body: dict[str, Any], client_id: str, api_key: str) -> dict[str, Any]:
    """The payload inside a webhook body; raises ValueError if the signature does not match."""
    # 1. signature = SHA-1 of clientId, timestamp, nonce and dataEncrypt, sorted and joined.
    parts = sorted([client_id, str(body["timestamp"]), str(body["nonce"]), str(body["dataEncrypt"])])
    expected = hashlib.sha1("".join(parts).encode()).hexdigest()
    if not hmac.compare_digest(expected, str(body["signature"])):
        raise ValueError("signature mismatch")
    # 2. dataEncrypt = Base64(AES-CBC(payload)), key = the API key, IV = the clientId, PKCS#7.
    decryptor = Cipher(algorithms.AES(api_key.encode()), modes.CBC(client_id.encode())).decryptor()
    padded = decryptor.update(base64.b64decode(body["dataEncrypt"])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())  # type: ignore[no-any-return]


class Receiver(BaseHTTPRequestHandler):
    client_id = os.environ.get("REELSMITH_CLIENT_ID", "")
    api_key = os.environ.get("REELSMITH_API_KEY", "")

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        try:
            payload = verify_and_decrypt(body, self.client_id, self.api_key)
        except (ValueError, KeyError) as exc:
            print("rejected:", exc, file=sys.stderr)
            self.send_response(400)
        else:
            # status 3: payload["url"] is the result (download it within 7 days);
            # status 4: payload["error_reason"] says why, and the credits were refunded.
            print(json.dumps(payload))
            self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(sys.argv[1]) if len(sys.argv) > 1 else 9000), Receiver).serve_forever()
