"""Webhook payloads as Akool's receivers expect them (API.md section 6), and the outbox.

The body POSTed to a receiver is ``{"signature", "dataEncrypt", "timestamp", "nonce"}``:
``dataEncrypt`` is Base64 of AES-CBC (PKCS#7) of the JSON payload with the API key's bytes as
the key (32 bytes: AES-256) and the clientId's bytes as the IV (16 bytes); ``signature`` is the
hex SHA-1 of the four strings clientId, timestamp, nonce and dataEncrypt, sorted and joined.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelsmith.errors import ApiError, Code
from reelsmith.products import product_named
from reelsmith.services.accounts import Caller
from reelsmith.storage.base import StoredFile
from reelsmith.storage.signing import UrlSigner
from reelsmith.store.db import Database
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Delivery, Task, task_base_url


class WebhookBodyError(Exception):
    """A captured body that does not verify or decrypt with the given credentials."""


def webhook_payload(task: Task, status: int, signer: UrlSigner, base_url: str) -> dict[str, Any]:
    """What a receiver reads after decrypting: Akool's four fields, plus the fields real
    receivers also read (``video_status``, ``video``, ``error_code``, ``error_reason``,
    ``deduction_credit``)."""
    video = task.result.get("files", {}).get("video") if status == 3 else None
    url = signer.url(base_url, StoredFile.from_json(video)) if video else ""
    payload: dict[str, Any] = {
        "_id": task.id,
        "status": status,
        "type": product_named(task.product).webhook_type,
        "url": url,
        "video_status": status,
        "video": url,
        "deduction_credit": 0 if task.refunded else task.credits_charged,
    }
    if status == 4:
        # As infobymodelid shows a failed translation: the reason's code beside its words.
        payload["error_code"] = task.error_code or int(Code.CREATE_FAILED)
        payload["error_reason"] = task.fail_reason or ""
    return payload


def enqueue_delivery(session: Session, task: Task, status: int, signer: UrlSigner, public_url: str | None) -> None:
    """Add the outbox row for a status change, in the caller's transaction, if the task asked
    for a webhook. The sender picks it up from there."""
    if not task.webhook_url:
        return
    base_url = public_url or task_base_url(task.params)
    payload = webhook_payload(task, status, signer, base_url)
    session.add(pending_delivery(task.id, task.account_id, task.webhook_url, status, payload))


def pending_delivery(task_id: str, account_id: int, url: str, event: int, payload: dict[str, Any]) -> Delivery:
    """A new outbox row, due now."""
    now = now_ms()
    return Delivery(
        task_id=task_id,
        account_id=account_id,
        url=url,
        event=event,
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        history=[],
    )


def describe_delivery(delivery: Delivery) -> dict[str, Any]:
    """A delivery as its team (and the operator) sees it: every attempt, and the next one."""
    return {
        "_id": delivery.id,
        "task_id": delivery.task_id,
        "url": delivery.url,
        "event": delivery.event,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at if delivery.state == "pending" else None,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "history": delivery.history,
    }


def _signature(client_id: str, timestamp: str, nonce: str, data_encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([client_id, timestamp, nonce, data_encrypt])).encode()).hexdigest()


def _cipher(client_id: str, api_key: str) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(api_key.encode()), modes.CBC(client_id.encode()))


def seal_payload(payload: dict[str, Any], client_id: str, api_key: str) -> dict[str, Any]:
    """The body to POST: the payload encrypted and signed with the team's credentials."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = _cipher(client_id, api_key).encryptor()
    data_encrypt = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    timestamp = now_ms()
    nonce = str(secrets.randbelow(9000) + 1000)
    return {
        "signature": _signature(client_id, str(timestamp), nonce, data_encrypt),
        "dataEncrypt": data_encrypt,
        "timestamp": timestamp,
        "nonce": nonce,
    }


def open_body(body: dict[str, Any], client_id: str, api_key: str) -> dict[str, Any]:
    """Verify a received body's signature and decrypt its payload (what a receiver does)."""
    try:
        data_encrypt = str(body["dataEncrypt"])
        expected = _signature(client_id, str(body["timestamp"]), str(body["nonce"]), data_encrypt)
        signature = str(body["signature"])
    except (KeyError, TypeError) as exc:
        raise WebhookBodyError("the body must have signature, dataEncrypt, timestamp and nonce") from exc
    if not hmac.compare_digest(expected, signature):
        raise WebhookBodyError("the signature does not match: wrong clientId, or the body was changed")
    if len(client_id.encode()) != 16 or len(api_key.encode()) != 32:
        raise WebhookBodyError("the clientId must be 16 bytes and the API key 32 bytes")
    try:
        decryptor = _cipher(client_id, api_key).decryptor()
        padded = decryptor.update(base64.b64decode(data_encrypt)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        return json.loads(plain)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookBodyError("dataEncrypt does not decrypt with this API key") from exc


class DeliveryService:
    """A team's view of its deliveries, and redelivery."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def for_task(self, caller: Caller, task_id: str) -> list[Delivery]:
        with self.db.read() as session:
            task = session.get(Task, task_id) if isinstance(task_id, str) else None
            if task is None or task.account_id != caller.account_id or task.deleted:
                raise ApiError(Code.NOT_FOUND, f"the content {task_id} does not exist")
            return list(session.scalars(select(Delivery).where(Delivery.task_id == task_id).order_by(Delivery.id)))

    def redeliver(self, caller: Caller, delivery_id: int) -> Delivery:
        """A new delivery of the same payload, due now; the old one keeps its history."""
        with self.db.write() as session:
            old = session.get(Delivery, delivery_id)
            task = session.get(Task, old.task_id) if old is not None else None
            # A deleted task's deliveries are gone with it (its result links no longer work).
            if old is None or old.account_id != caller.account_id or task is None or task.deleted:
                raise ApiError(Code.NOT_FOUND, f"the delivery {delivery_id} does not exist")
            fresh = pending_delivery(old.task_id, old.account_id, old.url, old.event, old.payload)
            session.add(fresh)
        return fresh
