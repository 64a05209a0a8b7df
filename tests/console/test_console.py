"""The web console, driven by Playwright in Debian's Chromium against a real `reelsmith serve`:
a team signs in, creates a task of each product from uploaded files, watches it progress, plays
and downloads the result and redelivers a webhook; an operator tops up a team and sees a queue.
Each page is photographed (into docs/console/ with `make console-screenshots`; docs/console.md
shows them)."""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect, sync_playwright

from tests.support.processes import create_account, free_port, start, stop, wait_healthy
from tests.support.receiver import Receiver
from tests.support.speech import spoken_clip

CHROMIUM = Path("/usr/bin/chromium")
# docs/console/ where `make console-screenshots` asks for it; otherwise a scratch folder, so that
# a test run leaves the committed pictures as they are.
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="console-shots-"))
SHOT_LIMIT = 300_000  # bytes: the screenshots are committed
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
ADMIN_TOKEN = "console-test-admin-token"
QUOTE = "/api/reelsmith/v1/quote"
OVERVIEW = "/api/reelsmith/v1/admin/overview"
# A task's run on two shared cores (the translation loads its speech models first).
TASK_SECONDS = 150
QUOTE_SECONDS = 120

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium (/usr/bin/chromium) is missing: `make system-packages` installs it "
    "(Playwright's own browser download cannot work here)",
)


@dataclass
class Server:
    base: str
    data_dir: Path
    team: dict[str, Any]

    def api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"x-api-key": self.team["apiKey"], **kwargs.pop("headers", {})}
        answer = httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs).json()
        return answer  # type: ignore[no-any-return]

    def offers(self, method: str, path: str, headers: dict[str, str]) -> bool:
        """Whether this server has ``path`` at all (the quote and the overview came later)."""
        return httpx.request(method, self.base + path, headers=headers, json={}, timeout=30).status_code != 404


@contextmanager
def _serve(folder: Path, credits: int, **env: str) -> Iterator[Server]:
    """`reelsmith serve` with one worker, the admin API on, and a Pro team with ``credits``."""
    data_dir = folder / "data"
    team = create_account(data_dir, "pro", credits)
    port = free_port()
    process = start(
        data_dir,
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        log=folder / "serve.log",
        REELSMITH_ADMIN_TOKEN=ADMIN_TOKEN,
        REELSMITH_WORKER_NICE="0",
        **env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, timeout=60)
        yield Server(base, data_dir, team)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    spoken_clip(path, sentences=("The weather is nice today.",))
    return path


def _page(browser: Browser, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def logged(message: ConsoleMessage) -> None:
        # A failed request is logged too: the quote and the overview may not be there (404),
        # which the console handles; anything else is a fault.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", logged)
    return page, errors


def shoot(page: Page, name: str, full_page: bool = False) -> None:
    """docs/console/<name>.png, in a palette of 256 colours (fewer where a page of photographs
    needs it) so that the committed files stay small."""
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-page
    png = page.screenshot(full_page=full_page, animations="disabled", caret="hide")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    for colours in (256, 128, 64):
        image.quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)
        if path.stat().st_size < SHOT_LIMIT:
            return
    raise AssertionError(f"{path} is {path.stat().st_size} bytes")


def upload(page: Page, legend: str, file: Path) -> None:
    page.get_by_role("group", name=legend).get_by_label("Upload a file").set_input_files(file)


def every_control_is_labelled(page: Page) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select, main textarea')]
            .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []


def submit_with_quote(page: Page, server: Server, credit: int) -> str:
    """Review and create: the quote dialog shows the price (or says there is none), then the task
    is created and its page opens. Returns the task id."""
    page.get_by_role("button", name="Review and create").click()
    dialog = page.get_by_role("dialog")
    # A quote looks into the inputs as the create does (a translation's listens for speech).
    expect(dialog).to_be_visible(timeout=QUOTE_SECONDS * 1000)
    if server.offers("POST", QUOTE, {"x-api-key": server.team["apiKey"]}):
        expect(dialog.locator("[data-quote=ready]")).to_be_visible()
        expect(dialog.locator("#quote-credit")).to_have_text(f"{credit} credits")
    else:
        expect(dialog.locator("[data-quote=unavailable]")).to_contain_text("No quote available")
    expect(dialog.get_by_role("button", name="Create task")).to_be_focused()
    if credit == 20:
        shoot(page, "quote")
    dialog.get_by_role("button", name="Create task").click()
    page.wait_for_url(re.compile(r"#/tasks/\w+/[0-9a-f]{24}$"))
    return page.url.rsplit("/", 1)[1]


def watch_until_done(page: Page) -> list[int]:
    """The statuses the task page shows, read until it says completed (or failed)."""
    seen: list[int] = []
    deadline = time.monotonic() + TASK_SECONDS
    while time.monotonic() < deadline:
        badge = page.locator("[data-status]").first
        status = int(badge.get_attribute("data-status") or 0) if badge.count() else 0
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        if status in (3, 4):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"the task did not finish in {TASK_SECONDS} s; statuses seen: {seen}")


def duration_of(video: Locator) -> float:
    seconds = video.evaluate(
        """(v) => new Promise((done) => v.readyState >= 1 ? done(v.duration)
            : v.addEventListener('loadedmetadata', () => done(v.duration), { once: true }))"""
    )
    return float(seconds)


def seek(video: Locator, seconds: float) -> None:
    """Show the frame at ``seconds``, loaded far enough that no spinner covers it."""
    video.evaluate(
        "(v, at) => new Promise((done) => { v.addEventListener('seeked', done, { once: true }); v.currentTime = at; })",
        seconds,
    )
    video.evaluate(
        "(v) => new Promise((done) => v.readyState >= 3 ? done() : v.addEventListener('canplay', done, { once: true }))"
    )
    video.page.wait_for_timeout(1000)  # the player's own controls show a spinner for a moment after a seek


def show_result(page: Page) -> None:
    page.locator("#result-title").evaluate("(heading) => heading.closest('section').scrollIntoView()")


def load_effect_thumbnails(page: Page) -> None:
    """Effect thumbnails load lazily (each is rendered on the server the first time): scroll
    them all into view and wait for every one."""
    for card in page.locator(".effect").all():
        card.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.effect img')].every((img) => img.complete && img.naturalWidth > 0)",
        timeout=120_000,
    )
    page.evaluate("window.scrollTo(0, 0)")


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _serve(tmp_path_factory.mktemp("console"), credits=1000) as server:
        yield server


def test_a_team_creates_watches_plays_and_redelivers(
    browser: Browser, team_server: Server, media_dir: Path, speech: Path
) -> None:
    server = team_server
    receiver = Receiver().start()
    page, errors = _page(browser, LAPTOP)
    try:
        # Sign in from the keyboard; a wrong key is refused with the API's own message.
        page.goto(f"{server.base}/console")
        expect(page.get_by_role("heading", name="Sign in to reelsmith")).to_be_visible()
        shoot(page, "sign-in")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Client ID")).to_be_focused()
        page.keyboard.type(server.team["clientId"])
        page.keyboard.press("Tab")
        page.keyboard.type("x" * 32)
        page.keyboard.press("Enter")
        refusal = httpx.post(
            f"{server.base}/api/open/v3/getToken", json={"clientId": server.team["clientId"], "clientSecret": "x" * 32}
        ).json()
        expect(page.get_by_role("alert")).to_have_text(refusal["msg"])
        page.get_by_label("API key").fill(server.team["apiKey"])
        page.get_by_role("button", name="Sign in as a team").click()
        page.wait_for_url(re.compile(r"#/create$"))
        assert page.evaluate("Object.keys(localStorage).length") == 0  # the session only
        expect(page.locator("#credits")).to_have_text("1,000 credits")

        # Image to Video: a picture, an effect, generated sound, a webhook.
        upload(page, "Picture (required)", media_dir / "portrait.png")
        page.get_by_role("radio", name=re.compile(r"^Zoom In")).check()
        page.get_by_role("radio", name=re.compile(r"^Generated sound")).check()
        page.get_by_label("Webhook URL").fill(receiver.url)
        every_control_is_labelled(page)
        load_effect_thumbnails(page)
        shoot(page, "create-image2video", full_page=True)
        task_id = submit_with_quote(page, server, credit=20)
        seen = watch_until_done(page)
        assert seen[0] in (1, 2) and seen[-1] == 3, seen  # watched live: not done, then done
        expect(page.get_by_role("progressbar", name="Task progress")).to_have_attribute("aria-valuenow", "100")
        result = page.locator("figure.player", has_text="Result").locator("video")
        assert duration_of(result) == pytest.approx(5.0, abs=0.25)
        download = page.get_by_role("link", name="Download video")
        fetched = httpx.get(download.get_attribute("href") or "")
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "video/mp4"
        balance = server.api("GET", "/api/open/v3/faceswap/quota/info")["data"]["credit"]
        assert balance == 980
        expect(page.locator("#credits")).to_have_text("980 credits", timeout=20_000)

        # Its webhook: delivered, every attempt shown, then delivered again on request.
        delivered = page.locator('tr[data-delivery][data-state="delivered"]')
        expect(delivered).to_have_count(1)
        page.get_by_role("button", name=re.compile(r"^Redeliver #")).click()
        expect(delivered).to_have_count(2)
        deadline = time.monotonic() + 30
        while len(receiver.accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.accepted) == 2
        page.locator("tr[data-delivery] details summary").first.click()
        page.get_by_role("heading", name="Webhook deliveries").scroll_into_view_if_needed()
        shoot(page, "deliveries")
        assert server.api("GET", f"/api/reelsmith/v1/tasks/{task_id}/deliveries")["data"]["count"] == 2

        # Character Swap: a picture and a video, replace mode, 2 s at 480p.
        page.get_by_role("link", name="New task").click()
        page.get_by_role("link", name="Character Swap").click()
        upload(page, "Character picture (required)", media_dir / "portrait.png")
        upload(page, "Source video (required)", media_dir / "talking.mp4")
        page.get_by_role("radio", name=re.compile(r"^Replace")).check()
        page.get_by_role("radio", name=re.compile(r"^480p")).check()
        page.get_by_label("Duration (seconds)").fill("2")
        every_control_is_labelled(page)
        shoot(page, "create-character-swap", full_page=True)
        submit_with_quote(page, server, credit=5)
        assert watch_until_done(page)[-1] == 3
        source = page.locator("figure.player", has_text="Source video").locator("video")
        swapped = page.locator("figure.player", has_text="Result").locator("video")
        assert duration_of(swapped) == pytest.approx(2.0, abs=0.25)
        assert duration_of(source) > 2.5  # the whole source, beside the 2 s that were swapped
        seek(swapped, 1.0)
        seek(source, 1.0)
        show_result(page)
        shoot(page, "result-character-swap")

        # Video Translation: English speech into Spanish, a chosen voice.
        page.get_by_role("link", name="New task").click()
        page.get_by_role("link", name="Video Translation").click()
        upload(page, "Video (required)", speech)
        page.get_by_role("checkbox", name=re.compile(r"^Spanish")).check()
        voices = page.get_by_role("group", name="Voice in Spanish")
        voices.get_by_role("radio").nth(1).check()
        every_control_is_labelled(page)
        shoot(page, "create-translation", full_page=True)
        submit_with_quote(page, server, credit=5)

        # The task list, live: the translation is not done yet, then it is.
        page.get_by_role("link", name="Tasks", exact=True).click()
        rows = page.locator("tbody tr[data-task]")
        expect(rows).to_have_count(3)
        translating = page.locator('tr[data-product="video_translation"]')
        assert translating.get_attribute("data-status") in ("1", "2")
        try:
            page.wait_for_function(
                """() => Number(document.querySelector('tr[data-product="video_translation"] [role=progressbar]')
                    ?.getAttribute('aria-valuenow')) > 0""",
                timeout=TASK_SECONDS * 1000,
            )
        except Exception:  # finished between two polls: the list still showed it running
            pass
        shoot(page, "tasks")
        expect(translating).to_have_attribute("data-status", "3", timeout=TASK_SECONDS * 1000)
        expect(page.locator('tr[data-status="3"]')).to_have_count(3)

        # Its result beside the source, with captions from the SRTs as <track>s.
        translating.get_by_role("link", name="Video Translation", exact=True).click()
        translated = page.locator("figure.player", has_text="Translated").locator("video")
        original = page.locator("figure.player", has_text="Original").locator("video")
        expect(translated).to_be_visible()
        assert duration_of(translated) == pytest.approx(duration_of(original), abs=0.3)
        captions = page.get_by_label("Captions", exact=True)
        captions.select_option(label="Translated captions (es)")
        showing = """(v) => [...v.textTracks].filter((t) => t.mode === 'showing' && t.cues && t.cues.length)
            .map((t) => t.language)"""
        page.wait_for_function(
            f"() => [...document.querySelectorAll('video')].every((v) => ({showing})(v)[0] === 'es')"
        )
        captions.select_option(label="Each video in its language")
        page.wait_for_function(f"() => ({showing})(document.querySelectorAll('video')[1])[0] === 'es'")
        assert original.evaluate(showing) == ["en"]  # the language the source was heard in
        for video in (original, translated):
            seek(video, 1.2)
        show_result(page)
        shoot(page, "result-translation")
        for name in ("Download video", "Download original captions (SRT)", "Download translated captions (SRT)"):
            assert httpx.get(page.get_by_role("link", name=name).get_attribute("href") or "").status_code == 200

        # The same pages on a phone, and in the dark.
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        shoot(page, "phone-result-translation")
        page.goto(f"{server.base}/console/#/tasks")
        expect(rows).to_have_count(3)
        shoot(page, "phone-tasks")
        page.goto(f"{server.base}/console/#/create/image2video")
        expect(page.get_by_role("group", name="Picture (required)")).to_be_visible()
        shoot(page, "phone-create-image2video")
        page.set_viewport_size(LAPTOP)  # type: ignore[arg-type]
        page.emulate_media(color_scheme="dark")
        page.goto(f"{server.base}/console/#/tasks")
        expect(rows).to_have_count(3)
        shoot(page, "dark-tasks")
        assert errors == []
    finally:
        page.context.close()
        receiver.stop()


def test_an_operator_tops_up_a_team_and_sees_a_queue(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, media_url: str
) -> None:
    # The only worker runs Character Swap: an Image to Video task waits in its queue.
    with _serve(tmp_path_factory.mktemp("operator"), credits=100, REELSMITH_ENGINES="character-swap") as server:
        body = {"image_url": f"{media_url}/portrait.png", "prompt": "slow zoom", "video_length": 5}
        queued = server.api("POST", "/api/open/v4/image2Video/createBySourcePrompt", json=body)
        assert queued["code"] == 1000, queued
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        page, errors = _page(browser, PHONE)
        try:
            page.goto(f"{server.base}/console/")
            expect(page.get_by_role("heading", name="Sign in to reelsmith")).to_be_visible()
            shoot(page, "phone-sign-in")
            page.set_viewport_size(LAPTOP)  # type: ignore[arg-type]
            page.get_by_label("Admin token").fill("not-the-token")
            page.get_by_role("button", name="Sign in as operator").click()
            expect(page.get_by_role("alert")).to_have_text("invalid admin token")
            page.get_by_label("Admin token").fill(ADMIN_TOKEN)
            page.get_by_role("button", name="Sign in as operator").click()
            page.wait_for_url(re.compile(r"#/operator$"))

            if server.offers("GET", OVERVIEW, admin):
                queue = page.locator('tr[data-engine="image2video"]')
                expect(queue.locator("td").nth(1)).to_have_text("1")
                # The worker reports in once its engines are loaded; the page reads again every 5 s.
                worker = page.locator("table", has_text="Worker").locator("tbody tr")
                expect(worker).to_have_count(1, timeout=60_000)
                expect(worker).to_contain_text("character-swap")
            else:
                expect(page.locator("[data-overview=unavailable]")).to_contain_text("No overview available")
            shoot(page, "operator-overview", full_page=True)

            page.get_by_role("link", name="Teams", exact=True).click()
            row = page.locator(f'tr[data-team="{server.team["clientId"]}"]')
            expect(row.locator("td.credit")).to_have_text("80")  # 100, less the queued task's 20
            row.get_by_label(re.compile(r"^Credits to add")).fill("250")
            row.get_by_role("button", name="Top up").click()
            expect(page.locator(f'tr[data-team="{server.team["clientId"]}"] td.credit')).to_have_text("330")
            assert server.api("GET", "/api/open/v3/faceswap/quota/info")["data"]["credit"] == 330
            expect(page.locator("#flash")).to_contain_text("now has 330 credits")
            shoot(page, "operator-teams")

            page.get_by_label("Name", exact=True).fill("Studio B")
            page.get_by_label("Plan", exact=True).select_option("pro")
            page.get_by_label("Credits", exact=True).fill("50")
            page.get_by_role("button", name="Create team").click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_contain_text("shown only now")
            client_id = dialog.locator("#new-client-id").inner_text()
            api_key = dialog.locator("#new-api-key").inner_text()
            shoot(page, "operator-new-team")
            dialog.get_by_role("button", name="Done").click()
            expect(page.locator(f'tr[data-team="{client_id}"]')).to_contain_text("Studio B")
            token = httpx.post(
                f"{server.base}/api/open/v3/getToken", json={"clientId": client_id, "clientSecret": api_key}
            ).json()
            assert token["code"] == 1000, token

            page.set_viewport_size(PHONE)  # type: ignore[arg-type]
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
            expect(page.get_by_role("heading", name="Operator overview")).to_be_visible()
            shoot(page, "phone-operator-overview")
            assert errors == []
        finally:
            page.context.close()
