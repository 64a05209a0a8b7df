"""Webhook bodies as Akool (and reelsmith) send them: check the signature, decrypt the payload.

A body is ``{"signature", "dataEncrypt", "timestamp", "nonce"}``:

- ``dataEncrypt`` is Base64 of AES-CBC with PKCS#7 padding of the JSON payload; the key is the
  API key's UTF-8 bytes (32: AES-256) and the IV the clientId's UTF-8 bytes (16).
- ``signature`` is the lowercase hex SHA-1 of the four strings clientId, timestamp, nonce and
  dataEncrypt, sorted and concatenated.

The signature proves only that the sender knew the clientId, which is not a secret; that the
payload decrypts to JSON with the API key is the stronger check, and :func:`open_webhook`
makes both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from reelsmith.client._json import Fields, JsonValue
from reelsmith.client.errors import WebhookError
from reelsmith.client.types import WebhookPayload

CLIENT_ID_BYTES = 16  # the AES IV
API_KEY_BYTES = 32  # the AES-256 key


@dataclass(frozen=True)
class WebhookBody:
    """The four fields of a webhook body, as strings (the timestamp is sent as a number)."""

    signature: str
    data_encrypt: str
    timestamp: str
    nonce: str

    @classmethod
    def parse(cls, body: bytes | str | Mapping[str, JsonValue]) -> WebhookBody:
        """From the raw request body or its parsed JSON; WebhookError if a field is missing."""
        if isinstance(body, bytes | str):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise WebhookError("the body is not JSON") from exc
        fields = Fields(dict(body) if isinstance(body, Mapping) else None)
        missing = [name for name in ("signature", "dataEncrypt", "timestamp", "nonce") if not fields.text(name)]
        if missing:
            raise WebhookError(f"the body has no {', '.join(missing)}")
        return cls(
            signature=fields.text("signature"),
            data_encrypt=fields.text("dataEncrypt"),
            timestamp=fields.text("timestamp"),
            nonce=fields.text("nonce"),
        )


def expected_signature(client_id: str, timestamp: str, nonce: str, data_encrypt: str) -> str:
    """The signature a body with these fields must carry."""
    joined = "".join(sorted([client_id, timestamp, nonce, data_encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def verify_signature(body: WebhookBody, client_id: str) -> bool:
    """Whether ``body`` is signed for ``client_id`` (compared in constant time)."""
    expected = expected_signature(client_id, body.timestamp, body.nonce, body.data_encrypt)
    return hmac.compare_digest(expected, body.signature.lower())


def decrypt_payload(data_encrypt: str, client_id: str, api_key: str) -> WebhookPayload:
    """The payload inside ``dataEncrypt``; WebhookError if it does not decrypt with these
    credentials to a JSON object."""
    key, iv = api_key.encode("utf-8"), client_id.encode("utf-8")
    if len(iv) != CLIENT_ID_BYTES or len(key) != API_KEY_BYTES:
        raise WebhookError(f"the clientId must be {CLIENT_ID_BYTES} bytes and the API key {API_KEY_BYTES} bytes")
    try:
        sealed = base64.b64decode(data_encrypt, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
        payload = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise WebhookError("dataEncrypt does not decrypt with this API key and clientId") from exc
    if not isinstance(payload, dict):
        raise WebhookError("the decrypted payload is not a JSON object")
    return WebhookPayload.read(Fields(payload))


def open_webhook(body: bytes | str | Mapping[str, JsonValue], client_id: str, api_key: str) -> WebhookPayload:
    """Verify a received webhook body and decrypt its payload: what a receiver does with the
    request body (bytes or text as received, or the parsed JSON). Raises WebhookError when the
    signature does not match or the payload does not decrypt."""
    parsed = WebhookBody.parse(body)
    if not verify_signature(parsed, client_id):
        raise WebhookError("the signature does not match: another clientId, or the body was changed")
    return decrypt_payload(parsed.data_encrypt, client_id, api_key)
