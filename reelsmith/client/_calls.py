"""Every endpoint as a :class:`Call`: the request to send and how to read its answer. The sync
and async clients only differ in how they send one, so both are built on these."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from reelsmith.client._json import Fields, JsonValue
from reelsmith.client.errors import UnexpectedResponseError, api_error
from reelsmith.client.types import (
    BatchFailure,
    CharacterSwapTask,
    Deletion,
    Delivery,
    Effect,
    Image2VideoBatch,
    Image2VideoTask,
    Language,
    Refusal,
    StudioVoice,
    TaskInfo,
    TranslationTask,
    Upload,
    VideoModel,
    Voice,
    VoicePage,
)

ResultT = TypeVar("ResultT", covariant=True)
OK = 1000
# Akool's Image to Video model type in aigModel/list.
IMAGE_TO_VIDEO_MODELS = 1501


@dataclass(frozen=True)
class Call(Generic[ResultT]):
    """One request, and what to make of its answer's envelope once its code is 1000."""

    method: Literal["GET", "POST"]
    path: str
    read: Callable[[Fields], ResultT]
    query: Sequence[tuple[str, str | int]] = ()
    body: Mapping[str, JsonValue] | None = None
    authenticated: bool = True


def envelope(response: httpx.Response) -> Fields:
    """The answer's ``{code, msg, data}``; ApiError when ``code`` is not 1000 (whatever the
    HTTP status), UnexpectedResponseError when it is not the envelope at all."""
    try:
        parsed: JsonValue = response.json()
    except ValueError:
        parsed = None
    fields = Fields(parsed)
    code = fields.optional_integer("code")
    if code is not None and code != OK:
        raise api_error(code, fields.text("msg") or "no message")
    if response.status_code != 200 or code is None:
        raise UnexpectedResponseError(response.status_code, response.text)
    return fields


def _sent(**fields: JsonValue) -> dict[str, JsonValue]:
    """The fields the caller set: the rest are left to the server's defaults (which differ
    between Akool's pages and its behaviour, API.md section 5)."""
    return {name: value for name, value in fields.items() if value is not None}


def _data(answer: Fields) -> Fields:
    return answer.object("data")


def get_token(client_id: str, client_secret: str) -> Call[str]:
    """``POST /api/open/v3/getToken``: the token is beside ``data``, not in it."""

    def read(answer: Fields) -> str:
        token = answer.text("token") or _data(answer).text("token")
        if not token:
            raise UnexpectedResponseError(200, "getToken answered without a token")
        return token

    body = {"clientId": client_id, "clientSecret": client_secret}
    return Call("POST", "/api/open/v3/getToken", read, body=body, authenticated=False)


def credit() -> Call[float]:
    """``GET /api/open/v3/faceswap/quota/info``."""
    return Call("GET", "/api/open/v3/faceswap/quota/info", lambda answer: _data(answer).number("credit"))


def create_character_swap(
    image: str,
    video: str,
    *,
    duration: float | None,
    resolution: str | None,
    mode: str | None,
    prompt: str | None,
    model_name: str | None,
    webhook_url: str | None,
) -> Call[CharacterSwapTask]:
    """``POST /api/open/v4/characterSwap/create``."""
    body = _sent(
        image=image,
        video=video,
        duration=duration,
        resolution=resolution,
        mode=mode,
        prompt=prompt,
        model_name=model_name,
        webhookurl=webhook_url,
    )
    return Call(
        "POST", "/api/open/v4/characterSwap/create", lambda answer: CharacterSwapTask.read(_data(answer)), body=body
    )


def _studio_voice(studio: StudioVoice) -> dict[str, JsonValue]:
    kept: list[JsonValue] = list(studio.no_translate_words)
    fixed: dict[str, JsonValue] = dict(studio.fixed_words)
    pronounced: dict[str, JsonValue] = dict(studio.pronounced_words)
    return _sent(
        no_translate_words=kept or None,
        fixed_words=fixed or None,
        pronounced_words=pronounced or None,
        style=studio.style or None,
    )


def _translations(answer: Fields) -> list[TranslationTask]:
    results = answer.objects("all_results")
    if not results:
        return [TranslationTask.read(_data(answer))]
    for result in results:
        code = result.integer("code", default=OK)
        if code != OK:
            raise api_error(code, result.text("msg") or "no message")
    return [TranslationTask.read(result.object("data")) for result in results]


def create_translation(
    url: str,
    language: str | Sequence[str],
    *,
    source_language: str | None,
    lipsync: bool | None,
    speaker_num: int | None,
    remove_bgm: bool | None,
    caption_type: int | None,
    caption_url: str | None,
    studio_voice: StudioVoice | None,
    dynamic_duration: bool | None,
    voices: Mapping[str, str] | None,
    webhook_url: str | None,
) -> Call[list[TranslationTask]]:
    """``POST /api/open/v3/content/video/createbytranslate``: one task per target language."""
    body = _sent(
        url=url,
        language=language if isinstance(language, str) else ",".join(language),
        source_language=source_language,
        lipsync=lipsync,
        speaker_num=speaker_num,
        remove_bgm=remove_bgm,
        caption_type=caption_type,
        caption_url=caption_url,
        studio_voice=_studio_voice(studio_voice) if studio_voice is not None else None,
        dynamic_duration=dynamic_duration,
        voices_map=(
            {code: {"voice_id": voice_id} for code, voice_id in voices.items()} if voices is not None else None
        ),
        webhookUrl=webhook_url,
    )
    return Call("POST", "/api/open/v3/content/video/createbytranslate", _translations, body=body)


def languages() -> Call[list[Language]]:
    """``GET /api/open/v3/language/list``."""
    return Call(
        "GET",
        "/api/open/v3/language/list",
        lambda answer: [Language.read(item) for item in _data(answer).objects("lang_list")],
    )


def voices(language_code: str, page: int, size: int) -> Call[VoicePage]:
    """``GET /api/open/v4/voice/videoTranslation``."""

    def read(answer: Fields) -> VoicePage:
        data = _data(answer)
        return VoicePage(
            page=data.integer("page", default=page),
            size=data.integer("size", default=size),
            count=data.integer("count"),
            voices=[Voice.read(item) for item in data.objects("result")],
        )

    query: list[tuple[str, str | int]] = [("language_code", language_code), ("page", page), ("size", size)]
    return Call("GET", "/api/open/v4/voice/videoTranslation", read, query=query)


def image_to_video_body(
    image_url: str,
    prompt: str,
    *,
    negative_prompt: str | None,
    extend_prompt: bool | None,
    resolution: str | None,
    video_length: int | None,
    audio_type: int | None,
    audio_url: str | None,
    effect_code: str | None,
    is_premium_model: bool | None,
    webhook_url: str | None,
) -> dict[str, JsonValue]:
    """The fields of ``createBySourcePrompt`` (the batch adds its own)."""
    return _sent(
        image_url=image_url,
        prompt=prompt,
        negative_prompt=negative_prompt,
        extend_prompt=extend_prompt,
        resolution=resolution,
        video_length=video_length,
        audio_type=audio_type,
        audio_url=audio_url,
        effect_code=effect_code,
        is_premium_model=is_premium_model,
        webhookurl=webhook_url,
    )


def create_image_to_video(body: dict[str, JsonValue]) -> Call[Image2VideoTask]:
    """``POST /api/open/v4/image2Video/createBySourcePrompt``."""
    return Call(
        "POST",
        "/api/open/v4/image2Video/createBySourcePrompt",
        lambda answer: Image2VideoTask.read(_data(answer)),
        body=body,
    )


def create_image_to_video_batch(
    body: dict[str, JsonValue], *, model_name: str | None, last_image_url: str | None, count: int | None
) -> Call[Image2VideoBatch]:
    """``POST /api/open/v4/image2Video/createBySourcePrompt/batch``."""

    def read(answer: Fields) -> Image2VideoBatch:
        data = _data(answer)
        return Image2VideoBatch(
            tasks=[Image2VideoTask.read(item) for item in data.objects("successList")],
            failures=[
                BatchFailure(message=item.text("msg", "message", "error"), raw=item.raw)
                for item in data.objects("errorList")
            ],
        )

    extra = _sent(model_name=model_name, last_image_url=last_image_url, count=count)
    return Call("POST", "/api/open/v4/image2Video/createBySourcePrompt/batch", read, body={**body, **extra})


def _ids(task_ids: str | Sequence[str]) -> str:
    return task_ids if isinstance(task_ids, str) else ",".join(task_ids)


def image_to_video_results(task_ids: str | Sequence[str]) -> Call[list[Image2VideoTask]]:
    """``POST /api/open/v4/image2Video/resultsByIds``: unknown ids are left out."""
    return Call(
        "POST",
        "/api/open/v4/image2Video/resultsByIds",
        lambda answer: [Image2VideoTask.read(item) for item in _data(answer).objects("result")],
        body={"_ids": _ids(task_ids)},
    )


def effects() -> Call[list[Effect]]:
    """``GET /api/open/v4/image2Video/effects``."""
    return Call(
        "GET",
        "/api/open/v4/image2Video/effects",
        lambda answer: [Effect.read(item) for item in _data(answer).objects("result")],
    )


def update_video_audio(
    pre_video_id: str, audio_type: int, audio_url: str | None, webhook_url: str | None
) -> Call[Image2VideoTask]:
    """``POST /api/open/v4/image2Video/updateVideoAudio``: a new task."""
    body = _sent(pre_video_id=pre_video_id, audio_type=audio_type, audio_url=audio_url, webhookurl=webhook_url)
    return Call(
        "POST",
        "/api/open/v4/image2Video/updateVideoAudio",
        lambda answer: Image2VideoTask.read(_data(answer)),
        body=body,
    )


def delete_image_to_video(task_ids: str | Sequence[str]) -> Call[Deletion]:
    """``POST /api/open/v4/image2Video/delbyids``."""

    def read(answer: Fields) -> Deletion:
        data = _data(answer)
        return Deletion(
            deleted_ids=data.texts("successIds"),
            refused=[Refusal(id=item.text("_id"), msg=item.text("msg")) for item in data.objects("noPermissionItems")],
        )

    return Call("POST", "/api/open/v4/image2Video/delbyids", read, body={"_ids": _ids(task_ids)})


def _model_list(answer: Fields) -> list[VideoModel]:
    # aigModel/list answers a bare list in data; reelsmith's models list is data.result.
    data = answer.raw.get("data")
    items = answer.objects("data") if isinstance(data, list) else _data(answer).objects("result")
    return [VideoModel.read(item) for item in items]


def image_to_video_models() -> Call[list[VideoModel]]:
    """``GET /api/open/v4/aigModel/list?types[]=1501``."""
    return Call("GET", "/api/open/v4/aigModel/list", _model_list, query=[("types[]", IMAGE_TO_VIDEO_MODELS)])


def info(task_id: str) -> Call[TaskInfo]:
    """``GET /api/open/v3/content/video/infobymodelid``."""
    return Call(
        "GET",
        "/api/open/v3/content/video/infobymodelid",
        lambda answer: TaskInfo.read(_data(answer)),
        query=[("video_model_id", task_id)],
    )


def image_to_video_info(task_id: str) -> Call[TaskInfo]:
    """An Image to Video task's state through ``resultsByIds``, Akool's own poll for it."""

    def read(answer: Fields) -> TaskInfo:
        for item in _data(answer).objects("result"):
            if item.text("_id") == task_id:
                return TaskInfo.of_image2video(Image2VideoTask.read(item))
        raise api_error(1008, f"no task {task_id}")

    return Call("POST", "/api/open/v4/image2Video/resultsByIds", read, body={"_ids": task_id})


def upload() -> Call[Upload]:
    """``POST /api/reelsmith/v1/upload`` (the body, the file, is the client's to send)."""

    def read(answer: Fields) -> Upload:
        data = _data(answer)
        return Upload(
            url=data.text("url"), kind=data.text("kind"), size=data.integer("size"), expires=data.integer("expires")
        )

    return Call("POST", "/api/reelsmith/v1/upload", read)


def deliveries(task_id: str) -> Call[list[Delivery]]:
    """``GET /api/reelsmith/v1/tasks/{_id}/deliveries``."""
    return Call(
        "GET",
        f"/api/reelsmith/v1/tasks/{quote(task_id, safe='')}/deliveries",
        lambda answer: [Delivery.read(item) for item in _data(answer).objects("result")],
    )


def redeliver(delivery_id: int) -> Call[Delivery]:
    """``POST /api/reelsmith/v1/deliveries/{_id}/redeliver``."""
    return Call(
        "POST",
        f"/api/reelsmith/v1/deliveries/{int(delivery_id)}/redeliver",
        lambda answer: Delivery.read(_data(answer)),
    )


def models() -> Call[list[VideoModel]]:
    """``GET /api/reelsmith/v1/models``: every installed model, of every product."""
    return Call("GET", "/api/reelsmith/v1/models", _model_list)
