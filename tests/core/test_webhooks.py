"""Webhook deliveries, checked the way a real receiver checks them: with an implementation of
API.md section 6 written here from the documented algorithm, not with reelsmith's code."""

from __future__ import annotations

import asyncio
import json
import runpy
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.dispatch.webhook_sender import WebhookSender
from reelsmith.inputs import netguard
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from reelsmith.store.models import Delivery
from tests.conftest import Team, make_settings, run_pending
from tests.support.engines.still_video import STILL_ENGINE
from tests.support.processes import ROOT, free_port, reelsmith
from tests.support.receiver import Receiver, receiver_decrypt

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
UPLOAD = "/api/reelsmith/v1/upload"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
        webhook_retry_base_seconds=0.05,
        webhook_retry_max_seconds=0.2,
        webhook_timeout_seconds=2,
        webhook_poll_seconds=0.02,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _create(team: Team, media_url: str, webhook: str, prompt: str = "zoom in") -> str:
    body = {
        "image_url": f"{media_url}/face.png",
        "prompt": prompt,
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
        "webhookUrl": webhook,
    }
    answer = team.post(CREATE, body)
    assert answer["code"] == 1000, answer
    return answer["data"]["_id"]  # type: ignore[no-any-return]


def _deliver(runtime: Runtime, seconds: float = 20) -> None:
    asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + seconds))


def _deliveries(runtime: Runtime, task_id: str) -> list[Delivery]:
    with runtime.db.read() as session:
        return list(session.query(Delivery).filter(Delivery.task_id == task_id).order_by(Delivery.id))


def test_completed_task_is_delivered_encrypted_and_signed(
    runtime: Runtime, client: TestClient, pro: Team, media_url: str, receiver: Receiver
) -> None:
    task_id = _create(pro, media_url, receiver.url)
    run_pending(runtime)
    _deliver(runtime)
    [body] = receiver.accepted
    assert set(body) == {"signature", "dataEncrypt", "timestamp", "nonce"}
    assert isinstance(body["timestamp"], int)
    payload = receiver_decrypt(body, pro.client_id, pro.api_key)
    assert payload["_id"] == task_id and payload["status"] == 3 and payload["type"] == "image2video"
    assert payload["video_status"] == 3 and payload["video"] == payload["url"]
    assert payload["deduction_credit"] == 20
    download = client.get(payload["url"])
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    [delivery] = _deliveries(runtime, task_id)
    assert delivery.state == "delivered" and delivery.attempts == 1 and delivery.last_status == 200


def test_failed_task_payload_carries_the_reason_and_the_refund(
    runtime: Runtime, pro: Team, media_url: str, receiver: Receiver
) -> None:
    task_id = _create(pro, media_url, receiver.url, prompt="please fail")
    run_pending(runtime)
    _deliver(runtime)
    payload = receiver_decrypt(receiver.accepted[0], pro.client_id, pro.api_key)
    assert payload["_id"] == task_id and payload["status"] == 4 and payload["url"] == ""
    assert "asked this test engine to fail" in payload["error_reason"]
    # As infobymodelid shows it (Akool's receivers read it): a pipeline failure is 1015.
    assert payload["error_code"] == 1015
    assert payload["deduction_credit"] == 0


def test_character_swap_and_translation_types(runtime: Runtime, pro: Team, media_url: str, receiver: Receiver) -> None:
    swap = pro.post(
        "/api/open/v4/characterSwap/create",
        # animate, driven by a test pattern: no face, so the task fails
        {"image": f"{media_url}/portrait.png", "video": f"{media_url}/clip.mp4", "webhookUrl": receiver.url},
    )["data"]["_id"]
    translation = pro.post(
        "/api/open/v3/content/video/createbytranslate",
        {"url": f"{media_url}/clip.mp4", "language": "es", "webhookUrl": receiver.url},
    )["data"]["_id"]
    run_pending(runtime)
    _deliver(runtime)
    payloads = {p["_id"]: p for p in (receiver_decrypt(b, pro.client_id, pro.api_key) for b in receiver.accepted)}
    assert payloads[swap]["type"] == "character swap" and payloads[swap]["status"] == 4
    assert payloads[translation]["type"] == "video translate" and payloads[translation]["status"] == 4


def test_receiver_failing_the_first_attempts_gets_it_exactly_once(runtime: Runtime, pro: Team, media_url: str) -> None:
    receiver = Receiver(fail_first=3).start()
    try:
        task_id = _create(pro, media_url, receiver.url)
        run_pending(runtime)
        _deliver(runtime)
    finally:
        receiver.stop()
    assert len(receiver.received) == 4 and len(receiver.accepted) == 1
    [delivery] = _deliveries(runtime, task_id)
    assert delivery.state == "delivered" and delivery.attempts == 4
    assert [h["status_code"] for h in delivery.history] == [500, 500, 500, 200]


def test_receiver_that_is_down_for_a_while_still_gets_it(runtime: Runtime, pro: Team, media_url: str) -> None:
    port = free_port()
    task_id = _create(pro, media_url, f"http://127.0.0.1:{port}/hook")
    run_pending(runtime)
    sender = WebhookSender(runtime)

    async def scenario() -> Receiver:
        from reelsmith.inputs.netguard import guarded_client

        async with guarded_client(runtime.settings, timeout=2) as client:
            for _ in range(3):  # three attempts against a closed port
                while not await sender.run_once(client):
                    await asyncio.sleep(0.02)
                while sender._in_flight:
                    await asyncio.sleep(0.02)
        return Receiver().start(port)

    receiver = asyncio.run(scenario())
    try:
        _deliver(runtime)
    finally:
        receiver.stop()
    assert len(receiver.accepted) == 1
    [delivery] = _deliveries(runtime, task_id)
    assert delivery.state == "delivered" and delivery.attempts == 4
    assert all("could not connect" in (h["error"] or "") for h in delivery.history[:3])


def test_redirects_count_as_failures_and_the_window_ends_in_dead(
    tmp_path: Path, media_url: str, media_dir: Path
) -> None:
    runtime = Runtime(
        make_settings(
            tmp_path / "data",
            engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
            webhook_retry_base_seconds=0.05,
            webhook_retry_max_seconds=0.1,
            webhook_retry_window_hours=0.5 / 3600,  # half a second
            webhook_poll_seconds=0.02,
        )
    )
    receiver = Receiver(redirect_to="http://example.com/elsewhere").start()
    try:
        with TestClient(create_app(runtime)):
            _, creds = runtime.accounts.create(plan="pro", credits=100)
            task_id = _create_with_key(runtime, creds.api_key, media_url, receiver.url)
            run_pending(runtime)
            _deliver(runtime)
    finally:
        receiver.stop()
    [delivery] = _deliveries(runtime, task_id)
    assert delivery.state == "dead" and delivery.attempts >= 2 and delivery.last_status == 302
    assert receiver.accepted == []


def test_private_receivers_are_refused_unless_allowed(
    tmp_path: Path, media_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only 127.0.0.1 is allowed. A literal private address is refused at creation; a host
    name that resolves to a private address (the DNS answer is the one fake here: there is no
    DNS server to ask) is refused at delivery, before any connection."""
    receiver = Receiver().start()
    port = receiver.server.server_address[1]  # type: ignore[union-attr]

    real_getaddrinfo = netguard.anyio.getaddrinfo

    async def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]
        return await real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(netguard.anyio, "getaddrinfo", resolve)
    runtime = Runtime(
        make_settings(
            tmp_path / "data",
            engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
            allow_networks=["127.0.0.1/32"],
        )
    )
    runtime.prepare()
    _, creds = runtime.accounts.create(plan="pro", credits=100)
    body = {"image_url": f"{media_url}/face.png", "prompt": "z", "resolution": "720p", "video_length": 5}
    try:
        with TestClient(create_app(runtime)) as client:
            headers = {"x-api-key": creds.api_key}
            for literal in ("http://10.0.0.7/hook", "http://[::1]:9/hook", "http://2130706434:9/hook"):
                refused = client.post(CREATE, json={**body, "audio_type": 3, "webhookUrl": literal}, headers=headers)
                assert refused.json()["code"] == 1003
                assert "webhookurl points to a private or local address" in refused.json()["msg"]
            named = f"http://hooks.example.test:{port}/hook"
            created = client.post(CREATE, json={**body, "audio_type": 3, "webhookUrl": named}, headers=headers)
            task_id = created.json()["data"]["_id"]
        run_pending(runtime)
        _deliver(runtime)
    finally:
        receiver.stop()
    [delivery] = _deliveries(runtime, task_id)
    assert delivery.state == "dead" and delivery.attempts == 1
    assert "127.0.0.2 is a private or local address" in (delivery.last_error or "")
    assert receiver.received == []


# Every way to write a private or local receiver that the resolver (or a DNS server, for the
# trailing-dot and .localhost names) would take to this machine or its network.
PRIVATE_WEBHOOK_FORMS = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",  # short forms: the last part fills the bytes left
    "http://127.0.1/hook",
    "http://10.1/hook",
    "http://192.168.257/hook",
    "http://2130706433/hook",  # decimal
    "http://0x7f000001/hook",  # hex
    "http://0X7F.1/hook",  # mixed
    "http://0xa.1/hook",
    "http://127.0x1/hook",
    "http://017700000001/hook",  # octal
    "http://0177.1/hook",
    "http://0/hook",
    "http://127.0.0.1./hook",  # trailing dot
    "http://127.1./hook",
    "http://localhost/hook",
    "http://localhost./hook",
    "http://LOCALHOST./hook",
    "http://hooks.localhost/hook",
    "http://127\u30020\u30020\u30021/hook",  # ideographic full stops, dots once IDNA-encoded
    "http://192.0.0.192/hook",  # Oracle Cloud's metadata service (192.0.0.0/24)
    "http://169.254.169.254/hook",
    "http://0xa9fea9fe/hook",
    "http://100.64.0.1/hook",
    "https://127.1:8443/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[::ffff:7f00:1]/hook",  # IPv4-mapped
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",
    "http://[::127.0.0.1]/hook",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]/hook",  # NAT64
    "http://[2002:7f00:1::]/hook",  # 6to4
    "http://[2001:0:808:808::80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    "http://[2001:0:a00:1::f7f7:f7f7]/hook",  # Teredo, server 10.0.0.1
    "http://[fe80::1%25eth0]/hook",
    "http://[fd00:ec2::254]/hook",
]


def test_every_notation_of_a_private_receiver_is_refused_at_creation(tmp_path: Path, media_dir: Path) -> None:
    """No private network is allowed. Each form is refused (1003, naming the field and the rule)
    before anything is charged, as each delivery would refuse it; before, short, hex, trailing-dot
    and 192.0.0.0/24 forms were accepted, charged, and their webhooks died at delivery."""
    runtime = Runtime(
        make_settings(
            tmp_path / "data", engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]}, allow_networks=[]
        )
    )
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=1000)
        headers = {"x-api-key": creds.api_key}
        # An upload is read from storage, not fetched, so the picture passes without any network.
        png = (media_dir / "face.png").read_bytes()
        image = client.post(UPLOAD, content=png, headers={**headers, "content-type": "image/png"}).json()["data"]["url"]
        body = {"image_url": image, "prompt": "z", "resolution": "720p", "video_length": 5, "audio_type": 3}
        answers = {
            webhook: client.post(CREATE, json={**body, "webhookUrl": webhook}, headers=headers).json()
            for webhook in PRIVATE_WEBHOOK_FORMS
        }
        accepted = {webhook: answer for webhook, answer in answers.items() if answer["code"] != 1003}
        assert accepted == {}
        for webhook, answer in answers.items():
            assert answer["msg"].startswith("webhookurl points to a private or local address ("), (webhook, answer)
            assert answer["msg"].endswith("; set REELSMITH_ALLOW_NETWORKS to allow it"), (webhook, answer)
        assert "(192.0.0.192: IETF protocol assignments (192.0.0.0/24))" in answers["http://192.0.0.192/hook"]["msg"]
        assert "(127.0.0.1: loopback (127.0.0.0/8))" in answers["http://localhost./hook"]["msg"]
        assert "which reaches 127.0.0.1: loopback" in answers["http://[64:ff9b::7f00:1]/hook"]["msg"]
        balance = client.get("/api/open/v3/faceswap/quota/info", headers=headers).json()["data"]["credit"]
        assert balance == 1000
        # The other products check their webhooks with the same guard.
        swap = {"image": image, "video": image, "webhookUrl": "http://127.1/hook"}
        refused = client.post("/api/open/v4/characterSwap/create", json=swap, headers=headers).json()
        assert refused["code"] == 1003 and refused["msg"].startswith("webhookUrl points to a private or local")
        translation = {"url": image, "language": "es", "webhookUrl": "http://0x7f000001/hook"}
        refused = client.post("/api/open/v3/content/video/createbytranslate", json=translation, headers=headers).json()
        assert refused["code"] == 1003 and refused["msg"].startswith("webhookUrl points to a private or local")
    assert run_pending(runtime) == 0


def test_every_notation_refused_at_creation_is_refused_at_delivery(tmp_path: Path) -> None:
    """The sender's client (the one guard, at connection) refuses each form too, before any
    lookup or connection, for the same address as creation: one verdict."""
    settings = make_settings(tmp_path / "data", allow_networks=[], webhook_timeout_seconds=2)

    async def attempt(url: str) -> str:
        async with netguard.guarded_client(settings, timeout=settings.webhook_timeout_seconds) as client:
            try:
                await client.post(url, content=b"{}")
            except Exception as exc:
                blocked = netguard.blocked_cause(exc)
                return str(blocked.ip) if blocked is not None else repr(exc)
        return "delivered"

    def at_creation(url: str) -> str:
        try:
            netguard.check_url_host(url, settings.allowed_networks)
        except netguard.BlockedAddress as exc:
            return str(exc.ip)
        return "accepted"

    expected = {url: at_creation(url) for url in PRIVATE_WEBHOOK_FORMS}
    assert "accepted" not in expected.values()
    assert {url: asyncio.run(attempt(url)) for url in PRIVATE_WEBHOOK_FORMS} == expected


def test_allowed_networks_open_every_notation_at_creation_and_delivery(
    runtime: Runtime, pro: Team, media_url: str, receiver: Receiver
) -> None:
    """127.0.0.0/8 is allowed (the tests' settings): the short, hex and decimal forms of the
    receiver's address are accepted at creation and delivered to, by the same verdict."""
    port = receiver.server.server_address[1]  # type: ignore[union-attr]
    forms = [f"http://127.1:{port}/hook", f"http://0x7f000001:{port}/hook", f"http://2130706433:{port}/hook"]
    ids = [_create(pro, media_url, webhook) for webhook in forms]
    run_pending(runtime)
    _deliver(runtime)
    assert len(receiver.accepted) == 3
    assert [d.state for task_id in ids for d in _deliveries(runtime, task_id)] == ["delivered"] * 3


def test_redirects_to_a_url_without_a_host_are_failed_attempts(tmp_path: Path, media_url: str) -> None:
    """httpx raised InvalidURL on these Locations (outside the errors the sender expects); they
    are redirects like any other: HTTP 302, retried, then dead."""
    runtime = Runtime(
        make_settings(
            tmp_path / "data",
            engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
            webhook_retry_base_seconds=0.05,
            webhook_retry_max_seconds=0.1,
            webhook_retry_window_hours=0.5 / 3600,  # half a second
            webhook_poll_seconds=0.02,
        )
    )
    locations = ["data:text/plain,hello", "mailto:someone@example.com", "about:blank", "javascript:alert(1)", "urn:x:y"]
    receivers = [Receiver(redirect_to=location).start() for location in locations]
    try:
        with TestClient(create_app(runtime)):
            _, creds = runtime.accounts.create(plan="pro", credits=1000)
            ids = [_create_with_key(runtime, creds.api_key, media_url, receiver.url) for receiver in receivers]
            run_pending(runtime)
            _deliver(runtime)
    finally:
        for receiver in receivers:
            receiver.stop()
    for task_id, location, receiver in zip(ids, locations, receivers, strict=True):
        [delivery] = _deliveries(runtime, task_id)
        assert delivery.state == "dead" and delivery.attempts >= 1 and delivery.last_status == 302
        assert {entry["error"] for entry in delivery.history} == {f"answered a redirect to {location!r}"}
        assert len(receiver.received) == delivery.attempts and receiver.accepted == []


def _create_with_key(runtime: Runtime, api_key: str, media_url: str, webhook: str) -> str:
    with TestClient(create_app(runtime)) as client:
        body = {
            "image_url": f"{media_url}/face.png",
            "prompt": "zoom",
            "resolution": "720p",
            "video_length": 5,
            "audio_type": 3,
            "webhookUrl": webhook,
        }
        answer = client.post(CREATE, json=body, headers={"x-api-key": api_key}).json()
    assert answer["code"] == 1000, answer
    return answer["data"]["_id"]  # type: ignore[no-any-return]


def test_tasks_finish_while_the_receiver_hangs(runtime: Runtime, pro: Team, media_url: str) -> None:
    """Workers only write outbox rows: with a receiver that never answers, every task still
    completes; the deliveries simply wait."""
    receiver = Receiver(hang_seconds=30).start()
    try:
        ids = [_create(pro, media_url, receiver.url) for _ in range(5)]

        async def both() -> None:
            # The sender starts first and hangs on the receiver while the workers run.
            sender = WebhookSender(runtime)
            from reelsmith.inputs.netguard import guarded_client

            async with guarded_client(runtime.settings, timeout=30) as client:
                await sender.run_once(client)
                await asyncio.to_thread(run_pending, runtime)
                for task in sender._in_flight:
                    task.cancel()

        asyncio.run(both())
        results = pro.post("/api/open/v4/image2Video/resultsByIds", {"_ids": ",".join(ids)})["data"]["result"]
        assert [r["status"] for r in results] == [3] * 5
        assert all(d.state == "pending" for task_id in ids for d in _deliveries(runtime, task_id))
    finally:
        receiver.hang_seconds = 0
        receiver.stop()


def test_deliveries_api_lists_attempts_and_redelivers(
    runtime: Runtime, make_team: Any, media_url: str, receiver: Receiver
) -> None:
    alice, bob = make_team(), make_team()
    task_id = _create(alice, media_url, receiver.url)
    run_pending(runtime)
    _deliver(runtime)
    listed = alice.get(f"/api/reelsmith/v1/tasks/{task_id}/deliveries")["data"]
    assert listed["count"] == 1
    [delivery] = listed["result"]
    assert delivery["state"] == "delivered" and delivery["event"] == 3 and delivery["url"] == receiver.url
    assert delivery["next_attempt_at"] is None and delivery["history"][0]["status_code"] == 200
    assert bob.get(f"/api/reelsmith/v1/tasks/{task_id}/deliveries")["code"] == 1008
    assert bob.post(f"/api/reelsmith/v1/deliveries/{delivery['_id']}/redeliver")["code"] == 1008
    again = alice.post(f"/api/reelsmith/v1/deliveries/{delivery['_id']}/redeliver")["data"]
    assert again["state"] == "pending" and again["_id"] != delivery["_id"]
    _deliver(runtime)
    assert len(receiver.accepted) == 2
    first, second = (receiver_decrypt(b, alice.client_id, alice.api_key) for b in receiver.accepted)
    assert first == second
    assert [d["state"] for d in alice.get(f"/api/reelsmith/v1/tasks/{task_id}/deliveries")["data"]["result"]] == [
        "delivered",
        "delivered",
    ]


def test_cli_verify_and_the_docs_example_read_a_real_delivery(
    runtime: Runtime, pro: Team, media_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    task_id = _create(pro, media_url, receiver.url)
    run_pending(runtime)
    _deliver(runtime)
    [body] = receiver.accepted
    captured = tmp_path / "body.json"
    captured.write_text(json.dumps(body))
    good = reelsmith(
        tmp_path, "webhooks", "verify", str(captured), "--client-id", pro.client_id, "--api-key", pro.api_key
    )
    assert good.returncode == 0 and "signature ok" in good.stdout and task_id in good.stdout
    captured.write_text(json.dumps({**body, "nonce": "0000"}))
    bad = reelsmith(
        tmp_path, "webhooks", "verify", str(captured), "--client-id", pro.client_id, "--api-key", pro.api_key
    )
    assert bad.returncode == 1 and "signature does not match" in bad.stdout
    example = runpy.run_path(str(ROOT / "examples" / "webhook_receiver.py"))
    assert example["verify_and_decrypt"](body, pro.client_id, pro.api_key)["_id"] == task_id
