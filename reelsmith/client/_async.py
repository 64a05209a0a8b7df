"""The asyncio client: the same methods as :class:`~reelsmith.client.Client`, awaited."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import httpx

from reelsmith.client import _calls
from reelsmith.client._base import DEFAULT_TIMEOUT, UPLOAD_CHUNK_BYTES, ClientCore
from reelsmith.client._waiting import (
    DEFAULT_TIMEOUT_SECONDS,
    AnyTask,
    AsyncProgressCallback,
    Backoff,
    Watch,
    is_transient,
    poll_for,
    settled,
    task_id_of,
)
from reelsmith.client.errors import ApiError, UnexpectedResponseError
from reelsmith.client.types import (
    CharacterSwapTask,
    Deletion,
    Delivery,
    Effect,
    Image2VideoBatch,
    Image2VideoTask,
    Language,
    StudioVoice,
    TaskInfo,
    TranslationTask,
    Upload,
    VideoModel,
    VoicePage,
)

ResultT = TypeVar("ResultT")
UploadSource = str | os.PathLike[str] | bytes


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    # Reads are blocking; each runs in a thread so the event loop goes on meanwhile.
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, UPLOAD_CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


class AsyncClient(ClientCore):
    """:class:`~reelsmith.client.Client` for asyncio: the same methods, each awaited
    (``async with AsyncClient(base_url, api_key=KEY) as client: await client.credit()``).
    ``wait``'s ``on_progress`` may be a plain function or a coroutine function. ``http_client``
    lets you bring your own ``httpx.AsyncClient``; it is then yours to close."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key=api_key, client_id=client_id, client_secret=client_secret, token=token)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http_client is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections (not those of an ``http_client`` you passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def _send(self, call: _calls.Call[ResultT], upload: UploadSource | None = None) -> ResultT:
        for first_try in (True, False):
            if self._needs_token(call):
                self._keep_token(await self._send(self._token_call()))
            if upload is None:
                request = self._request(call)
            elif isinstance(upload, bytes):
                request = self._request(call, upload, len(upload))
            else:
                path = Path(upload)
                request = self._request(call, _file_chunks(path), path.stat().st_size)
            try:
                return call.read(_calls.envelope(await self._http.send(request)))
            except ApiError as error:
                if not (first_try and self._drop_expired_token(error)):
                    raise
        raise AssertionError("unreachable: the second try returns or raises")

    # --- credentials and credit ----------------------------------------------------------------

    async def get_token(self) -> str:
        """A token for the client_id and client_secret (``getToken``); the client then uses it."""
        return self._keep_token(await self._send(self._token_call()))

    async def credit(self) -> float:
        """The account's credit balance (``quota/info``)."""
        return await self._send(_calls.credit())

    # --- Character Swap --------------------------------------------------------------------------

    async def create_character_swap(
        self,
        image: str,
        video: str,
        *,
        duration: float | None = None,
        resolution: str | None = None,
        mode: str | None = None,
        prompt: str | None = None,
        model_name: str | None = None,
        webhook_url: str | None = None,
    ) -> CharacterSwapTask:
        """Put the character of ``image`` (a PNG/JPEG URL) into ``video`` (an MP4 URL):
        ``mode`` ``animate`` (the picture moves like the video's person; the default) or
        ``replace`` (the video's person gets the face). ``duration``: the first seconds only;
        ``resolution``: 480p, 720p (default) or 1080p. Needs the Pro plan."""
        return await self._send(
            _calls.create_character_swap(
                image,
                video,
                duration=duration,
                resolution=resolution,
                mode=mode,
                prompt=prompt,
                model_name=model_name,
                webhook_url=webhook_url,
            )
        )

    # --- Video Translation -----------------------------------------------------------------------

    async def create_translation(
        self,
        url: str,
        language: str | Sequence[str],
        *,
        source_language: str | None = None,
        lipsync: bool | None = None,
        speaker_num: int | None = None,
        remove_bgm: bool | None = None,
        caption_type: int | None = None,
        caption_url: str | None = None,
        studio_voice: StudioVoice | None = None,
        dynamic_duration: bool | None = None,
        voices: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
    ) -> list[TranslationTask]:
        """Translate the video at ``url`` into each of ``language`` (``"es"``, ``"es,fr"`` or
        ``["es", "fr"]``): one task per language. ``voices`` maps a language to a
        ``voice_id`` of :meth:`voices`; the other fields are Akool's (API.md section 4)."""
        return await self._send(
            _calls.create_translation(
                url,
                language,
                source_language=source_language,
                lipsync=lipsync,
                speaker_num=speaker_num,
                remove_bgm=remove_bgm,
                caption_type=caption_type,
                caption_url=caption_url,
                studio_voice=studio_voice,
                dynamic_duration=dynamic_duration,
                voices=voices,
                webhook_url=webhook_url,
            )
        )

    async def languages(self) -> list[Language]:
        """The target languages (``language/list``)."""
        return await self._send(_calls.languages())

    async def voices(self, language_code: str = "", *, page: int = 1, size: int = 100) -> VoicePage:
        """The voices, of one language or all (``voice/videoTranslation``), a page at a time."""
        return await self._send(_calls.voices(language_code, page, size))

    # --- Image to Video --------------------------------------------------------------------------

    async def create_image_to_video(
        self,
        image_url: str,
        prompt: str = "",
        *,
        negative_prompt: str | None = None,
        extend_prompt: bool | None = None,
        resolution: str | None = None,
        video_length: int | None = None,
        audio_type: int | None = None,
        audio_url: str | None = None,
        effect_code: str | None = None,
        is_premium_model: bool | None = None,
        webhook_url: str | None = None,
    ) -> Image2VideoTask:
        """A video whose first frame is ``image_url``, moving as ``prompt`` says (or as the
        named ``effect_code`` does). ``resolution`` 720p (default), 1080p or 4k;
        ``video_length`` 5 (default) or 10 s; ``audio_type`` 1 generated, 2 ``audio_url``,
        3 none (default)."""
        body = _calls.image_to_video_body(
            image_url,
            prompt,
            negative_prompt=negative_prompt,
            extend_prompt=extend_prompt,
            resolution=resolution,
            video_length=video_length,
            audio_type=audio_type,
            audio_url=audio_url,
            effect_code=effect_code,
            is_premium_model=is_premium_model,
            webhook_url=webhook_url,
        )
        return await self._send(_calls.create_image_to_video(body))

    async def create_image_to_video_batch(
        self,
        image_url: str,
        prompt: str = "",
        *,
        model_name: str | None = None,
        last_image_url: str | None = None,
        count: int | None = None,
        negative_prompt: str | None = None,
        extend_prompt: bool | None = None,
        resolution: str | None = None,
        video_length: int | None = None,
        audio_type: int | None = None,
        audio_url: str | None = None,
        effect_code: str | None = None,
        is_premium_model: bool | None = None,
        webhook_url: str | None = None,
    ) -> Image2VideoBatch:
        """``count`` (1-10) variations of :meth:`create_image_to_video` by ``model_name`` (see
        :meth:`image_to_video_models`), ending on ``last_image_url`` where the model can."""
        body = _calls.image_to_video_body(
            image_url,
            prompt,
            negative_prompt=negative_prompt,
            extend_prompt=extend_prompt,
            resolution=resolution,
            video_length=video_length,
            audio_type=audio_type,
            audio_url=audio_url,
            effect_code=effect_code,
            is_premium_model=is_premium_model,
            webhook_url=webhook_url,
        )
        return await self._send(
            _calls.create_image_to_video_batch(body, model_name=model_name, last_image_url=last_image_url, count=count)
        )

    async def image_to_video_results(self, task_ids: str | Sequence[str]) -> list[Image2VideoTask]:
        """The state of Image to Video tasks (``resultsByIds``); unknown ids are left out."""
        return await self._send(_calls.image_to_video_results(task_ids))

    async def effects(self) -> list[Effect]:
        """The named effects (``image2Video/effects``)."""
        return await self._send(_calls.effects())

    async def update_video_audio(
        self, pre_video_id: str, audio_type: int, *, audio_url: str | None = None, webhook_url: str | None = None
    ) -> Image2VideoTask:
        """A new task that puts sound on a finished video: ``audio_type`` 1 generated, 2
        ``audio_url``."""
        return await self._send(_calls.update_video_audio(pre_video_id, audio_type, audio_url, webhook_url))

    async def delete_image_to_video(self, task_ids: str | Sequence[str]) -> Deletion:
        """Delete Image to Video tasks and their files (``delbyids``)."""
        return await self._send(_calls.delete_image_to_video(task_ids))

    async def image_to_video_models(self) -> list[VideoModel]:
        """The Image to Video models (``aigModel/list``)."""
        return await self._send(_calls.image_to_video_models())

    # --- any task ------------------------------------------------------------------------------

    async def info(self, task_id: str) -> TaskInfo:
        """A task's state, of any product (``infobymodelid``)."""
        return await self._send(_calls.info(task_id))

    async def wait(
        self,
        task: AnyTask,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_progress: AsyncProgressCallback | None = None,
        backoff: Backoff = Backoff(),
    ) -> TaskInfo:
        """Poll ``task`` (a create answer, or an ``_id``) until it finishes, and return its
        final state. Polls at once, after 1 s, then 1.25 times longer each time, at most every 10 s
        (``backoff``); ``on_progress`` is called with the state whenever its status or progress
        changes. Network errors, rate limits and 5xx answers are polled through. Raises
        TaskFailedError when the task fails (status 4), WaitTimeoutError after ``timeout``
        seconds (the task goes on)."""
        watch = Watch(task_id_of(task), timeout, backoff)
        poll = poll_for(task)
        while True:
            try:
                info = await self._send(poll)
            except (httpx.HTTPError, ApiError, UnexpectedResponseError) as error:
                if not is_transient(error):
                    raise
            else:
                if watch.saw(info) and on_progress is not None:
                    shown = on_progress(info)
                    if inspect.isawaitable(shown):
                        await shown
                if info.finished:
                    return settled(info)
            await asyncio.sleep(watch.next_delay())

    # --- files (reelsmith) ---------------------------------------------------------------------

    async def upload(self, source: UploadSource) -> Upload:
        """Upload a file (a path, or its bytes) and get a URL that works as any input URL: a
        picture, an MP4, audio, or SRT/ASS captions (reelsmith; Akool has no upload)."""
        return await self._send(_calls.upload(), upload=source)

    async def download(self, url: str, path: str | os.PathLike[str]) -> Path:
        """Save a result file to ``path`` (no credentials are sent: result links are signed)."""
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        async with self._http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                await response.aread()
                raise UnexpectedResponseError(response.status_code, response.text)
            out = await asyncio.to_thread(partial.open, "wb")
            try:
                async for chunk in response.aiter_bytes(UPLOAD_CHUNK_BYTES):
                    await asyncio.to_thread(out.write, chunk)
            finally:
                out.close()
        await asyncio.to_thread(partial.replace, target)
        return target

    # --- webhooks and models (reelsmith) ------------------------------------------------------

    async def deliveries(self, task_id: str) -> list[Delivery]:
        """A task's webhook deliveries, with every attempt (reelsmith)."""
        return await self._send(_calls.deliveries(task_id))

    async def redeliver(self, delivery_id: int) -> Delivery:
        """Send a delivery again: a new delivery, due now (reelsmith)."""
        return await self._send(_calls.redeliver(delivery_id))

    async def models(self) -> list[VideoModel]:
        """Every installed model, of every product, with its engine (reelsmith)."""
        return await self._send(_calls.models())
