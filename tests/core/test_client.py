"""The Python client (``reelsmith.client``) against a live ``reelsmith serve``.

The README's examples run as written (only the server's address changes, and the credentials
come from the environment as the README says), so the docs cannot drift from the client; what a
user then sees is checked: a finished task whose video downloads and lasts what was asked, a
webhook that the README's receiver verifies and decrypts, the async client, and refusals and
failures raised with their code and reason. Every call is real HTTP to the real server."""

from __future__ import annotations

import base64
import http.server
import io
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reelsmith.client import (
    AuthenticationError,
    Backoff,
    Client,
    InvalidParameterError,
    NotFoundError,
    TaskFailedError,
    TaskInfo,
    WebhookBody,
    WebhookError,
    open_webhook,
    verify_signature,
)
from reelsmith.client.webhooks import expected_signature
from reelsmith.media.probe import probe
from tests.support.processes import free_port, start, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent.parent
README_ADDRESS = "http://127.0.0.1:8000"
# The tests' own waits poll often; the README's examples keep the defaults.
QUICK = Backoff(first=0.2, factor=1.5, most=1.0)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    client_id: str
    api_key: str

    def client(self) -> Client:
        return Client(self.base_url, api_key=self.api_key)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``reelsmith serve`` as the README starts it, and the demo account (Pro, 1000 credits)
    that it prints on its first start."""
    folder = tmp_path_factory.mktemp("client")
    port = free_port()
    log = folder / "serve.log"
    process = start(folder / "data", "serve", "--port", str(port), "--workers", "1", log=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process)
        client_id = re.search(r"clientId: (\S{16})", log.read_text())
        api_key = re.search(r"API key : (\S{32})", log.read_text())
        assert client_id and api_key, log.read_text()
        yield LiveServer(base_url, client_id[1], api_key[1])
    finally:
        stop(process)


@pytest.fixture
def user(server: LiveServer, media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's folder with a photo in it, and the credentials where the README reads them."""
    shutil.copy(media_dir / "portrait.png", tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELSMITH_API_KEY", server.api_key)
    monkeypatch.setenv("REELSMITH_CLIENT_ID", server.client_id)
    return tmp_path


def readme_examples() -> list[str]:
    """The fenced Python blocks of the README's "Python client" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python client\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def run_example(number: int, server: LiveServer, module_name: str = "__main__") -> dict[str, object]:
    """Run the README's ``number``-th example against ``server``; its globals afterwards."""
    source = readme_examples()[number]
    assert README_ADDRESS in source or number == 2, "the example must name the server the README starts"
    namespace: dict[str, object] = {"__name__": module_name}
    exec(compile(source.replace(README_ADDRESS, server.base_url), f"README.md example {number}", "exec"), namespace)
    return namespace


def test_the_readme_has_the_three_examples() -> None:
    examples = readme_examples()
    assert len(examples) == 3
    assert "client.wait(task, on_progress=" in examples[0] and "client.download(" in examples[0]
    assert "AsyncClient" in examples[1] and "open_webhook" in examples[2]


def test_readme_example_uploads_creates_waits_with_progress_and_downloads_the_video(
    server: LiveServer, user: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with server.client() as client:
        balance = client.credit()
        run_example(0, server)
        assert client.credit() == balance - 20
    printed = capsys.readouterr().out
    assert re.search(r"^task [0-9a-f]{24}: 20 credits$", printed, re.M), printed
    seen = [(int(status), int(percent)) for status, percent in re.findall(r"^status (\d), (\d+)%$", printed, re.M)]
    assert seen[-1] == (3, 100), printed
    assert seen == sorted(seen), "status and progress only move forward"
    video = probe(user / "result.mp4")
    # 5 s at 720p (the short side: the photo is square), as asked.
    assert video.has_video and abs(video.duration - 5.0) < 0.1 and (video.width, video.height) == (720, 720)


def test_readme_async_example_runs_tasks_together_and_reports_a_refusal(
    server: LiveServer, user: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_example(1, server)
    printed = capsys.readouterr().out
    assert "refused: 1003 video_length must be one of 5, 10" in printed, printed
    urls = re.findall(r"^.+ (http://\S+)$", printed, re.M)
    assert len(urls) == 2, printed
    for url in urls:
        answer = httpx.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
        (user / "effect.mp4").write_bytes(answer.content)
        assert abs(probe(user / "effect.mp4").duration - 5.0) < 0.1


class ReceiverThread:
    """An HTTP server on loopback running ``handler`` in a thread."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_readme_webhook_receiver_decrypts_a_real_delivery_and_refuses_forgeries(
    server: LiveServer, user: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme_receiver = run_example(2, server, module_name="receiver")["WebhookReceiver"]
    assert isinstance(readme_receiver, type) and issubclass(readme_receiver, http.server.BaseHTTPRequestHandler)
    bodies: list[bytes] = []

    class Recording(readme_receiver):  # type: ignore[misc, valid-type]
        """The README's receiver, keeping each body it is sent for the checks below."""

        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            raw = self.rfile.read(int(self.headers["content-length"]))
            bodies.append(raw)
            self.rfile = io.BytesIO(raw)
            super().do_POST()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ReceiverThread(Recording)
    printed: list[str] = []

    def saw(text: str) -> Callable[[], bool]:
        def check() -> bool:
            printed.append(capsys.readouterr().out)
            return text in "".join(printed)

        return check

    try:
        with server.client() as client:
            picture = client.upload(user / "photo.png")
            task = client.create_image_to_video(picture.url, "pan left", webhook_url=receiver.url)
            assert task.webhook_url == receiver.url
            done = client.wait(task, backoff=QUICK)
            wait_for(saw(f"{task.id} 3 "), 30)
            line = next(line for line in "".join(printed).splitlines() if line.startswith(task.id))
            assert line.split()[2].split("?")[0] == done.result_url.split("?")[0]

            [delivery] = client.deliveries(task.id)
            assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
            assert delivery.history[0].status_code == 200
            again = client.redeliver(delivery.id)
            assert again.id != delivery.id and again.task_id == task.id
            wait_for(lambda: len(bodies) == 2, 30)

            # What the README's receiver is sent opens with the team's credentials only.
            real = WebhookBody.parse(bodies[0])
            assert verify_signature(real, server.client_id) and not verify_signature(real, "x" * 16)
            payload = open_webhook(bodies[0], server.client_id, server.api_key)
            assert (payload.id, payload.status, payload.type) == (task.id, 3, "image2video")
            assert payload.deduction_credit == 20 and payload.url.split("?")[0] == done.result_url.split("?")[0]
            with pytest.raises(WebhookError):
                open_webhook(bodies[0], server.client_id, "k" * 32)
            # A body re-signed over a changed dataEncrypt passes the signature (the clientId is
            # no secret) but not the decryption.
            changed = base64.b64encode(bytes(48)).decode()
            forged = {
                "signature": expected_signature(server.client_id, real.timestamp, real.nonce, changed),
                "dataEncrypt": changed,
                "timestamp": real.timestamp,
                "nonce": real.nonce,
            }
            with pytest.raises(WebhookError, match="decrypt"):
                open_webhook(forged, server.client_id, server.api_key)
            assert httpx.post(receiver.url, json=forged).status_code == 400
            unsigned = {**forged, "signature": "0" * 40}
            assert httpx.post(receiver.url, json=unsigned).status_code == 400
    finally:
        receiver.close()


def test_tokens_refusals_and_failures_are_raised_with_their_code_and_reason(
    server: LiveServer, user: Path, media_dir: Path
) -> None:
    with Client(server.base_url, client_id=server.client_id, client_secret=server.api_key) as by_token:
        assert by_token.credit() > 0 and by_token.token  # fetched from getToken on first use
        by_token.token = "expired"  # as a token the server no longer takes (1101)
        assert by_token.credit() > 0 and by_token.token != "expired"  # fetched again, once
    with Client(server.base_url, api_key="k" * 32) as stranger, pytest.raises(AuthenticationError) as refused:
        stranger.credit()
    assert refused.value.code == 1101

    with server.client() as client:
        with pytest.raises(NotFoundError) as missing:
            client.info("0" * 24)
        assert missing.value.code == 1008
        with pytest.raises(InvalidParameterError) as invalid:
            client.create_character_swap("ftp://example.com/a.png", "ftp://example.com/b.mp4")
        assert invalid.value.code == 1003 and "image" in invalid.value.msg

        # Animating a face by a video with nobody in it: accepted, charged, then failed and refunded.
        balance = client.credit()
        picture, video = client.upload(user / "photo.png"), client.upload((media_dir / "clip.mp4").read_bytes())
        assert (picture.kind, video.kind) == ("image", "video")
        swap = client.create_character_swap(picture.url, video.url, mode="animate", resolution="480p")
        assert (swap.status, swap.mode, swap.video_url, swap.deduction_credit) == (1, "animate", video.url, 5)
        with pytest.raises(TaskFailedError) as failed:
            client.wait(swap, timeout=60, backoff=QUICK)
        assert "no face was found" in failed.value.reason and failed.value.info.deduction_credit == 0
        assert client.credit() == balance


def test_every_other_endpoint_answers_typed(server: LiveServer, user: Path, media_dir: Path) -> None:
    with server.client() as client:
        picture = client.upload(user / "photo.png")
        effects = client.effects()
        assert effects and all(effect.effect_code and effect.logo.startswith("http") for effect in effects)
        [model] = client.image_to_video_models()
        assert model.value and {r.value for r in model.resolutions} >= {"720p"} and 5 in model.durations
        assert {m.product for m in client.models()} >= {"image2video", "character_swap"}
        languages = client.languages()
        assert "es" in {language.code for language in languages}
        voices = client.voices("es")
        assert voices.count == len(voices.voices) > 0 and all(v.language_code == "es" for v in voices.voices)

        # A batch, deleted before it runs (or refused where its worker already took it).
        batch = client.create_image_to_video_batch(picture.url, "zoom", model_name=model.value, count=2)
        assert len(batch.tasks) == 2 and batch.failures == [] and batch.tasks[0].batch_count == 2
        ids = [task.id for task in batch.tasks]
        deletion = client.delete_image_to_video(ids)
        assert sorted(deletion.deleted_ids + [r.id for r in deletion.refused]) == sorted(ids)
        assert sorted(task.id for task in client.image_to_video_results(ids)) == sorted(r.id for r in deletion.refused)

        # Sound put on a finished video: a new task, polled through resultsByIds as Akool's is.
        first = client.create_image_to_video(picture.url, "tilt up")
        client.wait(first, backoff=QUICK)
        with_sound = client.update_video_audio(first.id, 1)
        assert with_sound.id != first.id
        progress: list[TaskInfo] = []
        done = client.wait(with_sound, on_progress=progress.append, backoff=QUICK)
        assert done.result_url and progress[-1] is done
        client.download(done.result_url, user / "with_sound.mp4")
        assert probe(user / "with_sound.mp4").has_audio

        # A translation: one task per target language, in the order asked.
        clip = client.upload(media_dir / "talking.mp4")
        tasks = client.create_translation(clip.url, ["es", "fr"])
        assert [(task.language, task.target_video, task.status) for task in tasks] == [
            ("es", clip.url, 1),
            ("fr", clip.url, 1),
        ]
        assert client.info(tasks[0].id).id == tasks[0].id
