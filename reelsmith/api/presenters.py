"""Task records as each endpoint shows them, with Akool's field names and quirks:
``status`` in create answers but ``video_status`` in infobymodelid; ``video_url`` is the INPUT
for Character Swap and the OUTPUT for Image to Video."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from starlette.requests import Request

from reelsmith.errors import Code
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.storage.base import StoredFile
from reelsmith.storage.signing import UrlSigner
from reelsmith.store.models import TaskRecord


class Presenter:
    def __init__(self, signer: UrlSigner, base_url: Callable[[], str], caller: Caller) -> None:
        # The base URL is only worked out when a file link is shown (polls of unfinished
        # tasks, the common case, never need it).
        self._base_url = base_url
        self.signer = signer
        self.caller = caller

    @cached_property
    def base_url(self) -> str:
        return self._base_url()

    def file_url(self, task: TaskRecord, name: str) -> str:
        stored = task.result.get("files", {}).get(name)
        return self.signer.url(self.base_url, StoredFile.from_json(stored)) if stored else ""

    def _common(self, task: TaskRecord) -> dict[str, Any]:
        return {
            "_id": task.id,
            "create_time": task.create_time,
            "uid": self.caller.account_id,
            "team_id": self.caller.team_id,
        }

    @staticmethod
    def _credit(task: TaskRecord) -> int:
        return 0 if task.refunded else task.credits_charged

    # --- Character Swap --------------------------------------------------------------------

    def character_swap_created(self, task: TaskRecord) -> dict[str, Any]:
        p = task.params
        return {
            **self._common(task),
            "status": task.status,
            "video_duration": p["duration"],
            "deduction_credit": self._credit(task),
            "resolution": p["resolution"],
            "file_name": p["file_name"],
            "image_url": p["image_url"],
            "video_url": p["video_url"],
            "prompt": p["prompt"],
            "mode": p["mode"],
            "model_name": p["model_name"],
            "webhookUrl": task.webhook_url,
        }

    def character_swap_info(self, task: TaskRecord) -> dict[str, Any]:
        p = task.params
        data = {
            **self._common(task),
            "update_time": task.update_time,
            "video_duration": task.result.get("video_duration", p["duration"]),
            "webhookUrl": task.webhook_url,
            "file_name": p["file_name"],
            "image_url": p["image_url"],
            "video_url": p["video_url"],
            "prompt": p["prompt"],
            "mode": p["mode"],
            "resolution": p["resolution"],
            "deduction_credit": self._credit(task),
            "video_status": task.status,
            "progress": task.progress,
        }
        if task.status == 3:
            data["video"] = self.file_url(task, "video")
        if task.status == 4:
            data["faceswap_fail_reason"] = task.fail_reason or ""
        if "swap_report" in task.result:
            data["swap_report"] = task.result["swap_report"]
        return data

    # --- Video Translation -----------------------------------------------------------------

    def translation_created(self, task: TaskRecord) -> dict[str, Any]:
        p = task.params
        return {
            **self._common(task),
            "target_video": p["url"],
            "language": p["language"],
            "source_language": p["source_language"],
            "video_status": task.status,
            "video_lock_duration": p["video_lock_duration"],
            "deduction_lock_duration": p["deduction_lock_duration"],
            "deduction_credit": self._credit(task),
            "video": self.file_url(task, "video") if task.status == 3 else "",
            "lipsync": p["lipsync"],
            "speaker_num": p["speaker_num"],
            "webhookUrl": task.webhook_url,
            "progress": task.progress,
        }

    def translation_info(self, task: TaskRecord) -> dict[str, Any]:
        data = {
            **self.translation_created(task),
            "update_time": task.update_time,
            "deduction_duration": task.params["deduction_lock_duration"] if task.status == 3 else 0,
            "audio_splits": {
                "original_srt_url": self.file_url(task, "original_srt"),
                "translated_srt_url": self.file_url(task, "translated_srt"),
                "no_caption_video_url": self.file_url(task, "no_caption_video"),
            },
        }
        if task.status == 4:
            data["error_code"] = task.error_code or int(Code.CREATE_FAILED)
            data["error_reason"] = task.fail_reason or ""
        if "translation_report" in task.result:
            data["translation_report"] = task.result["translation_report"]
        return data

    # --- Image to Video --------------------------------------------------------------------

    def image2video_created(self, task: TaskRecord) -> dict[str, Any]:
        p = task.params
        data = {
            **self._common(task),
            "status": task.status,
            "webhookUrl": task.webhook_url,
            "resolution": p["resolution"],
            "file_name": p["file_name"],
            "effect_name": p["effect_name"],
            "effect_code": p["effect_code"],
            "image_url": p["image_url"],
            "prompt": p["prompt"],
            "negative_prompt": p["negative_prompt"],
            "extend_prompt": p["extend_prompt"],
            "audio_type": p["audio_type"],
            "audio_url": p["audio_url"],
            "deduction_credit": self._credit(task),
        }
        if task.batch_id:
            data.update(batch_id=task.batch_id, batch_count=p["batch_count"], model_name=p["model_name"])
        return data

    def image2video_result(self, task: TaskRecord) -> dict[str, Any]:
        data = {
            **self.image2video_created(task),
            "update_time": task.update_time,
            "video_duration": task.result.get("video_duration", task.params["video_length"]),
            "video_url": self.file_url(task, "video") if task.status == 3 else "",
            "cover_url": self.file_url(task, "cover") if task.status == 3 else "",
            "only_add_audio": task.params["only_add_audio"],
            "model_name": task.params["model_name"],
            "progress": task.progress,
        }
        if task.status == 4:
            data["error_reason"] = task.fail_reason or ""
        if "motion_plan" in task.result:
            data["motion_plan"] = task.result["motion_plan"]
        return data

    def image2video_info(self, task: TaskRecord) -> dict[str, Any]:
        data = self.image2video_result(task)
        data["video_status"] = data["status"]
        data["video"] = data["video_url"]
        return data

    def info(self, task: TaskRecord) -> dict[str, Any]:
        """infobymodelid's view of any product's task."""
        if task.product == "character_swap":
            return self.character_swap_info(task)
        if task.product == "video_translation":
            return self.translation_info(task)
        return self.image2video_info(task)


def base_url_of(runtime: Runtime, request: Request) -> str:
    """Where file links point: the configured public URL, else where this request came to."""
    return runtime.settings.public_url or str(request.base_url)


def presenter_for(runtime: Runtime, request: Request, caller: Caller) -> Presenter:
    return Presenter(runtime.signer, lambda: base_url_of(runtime, request), caller)


# Catalog links (badges, avatars, previews) are the same for everyone: browsers may keep them
# and pages of any origin may show them.
PUBLIC_ASSET_HEADERS = {"cache-control": "public, max-age=86400", "access-control-allow-origin": "*"}

_LINK_FIELDS = ("url", "flag_url", "preview", "thumbnailUrl", "logo", "video_url")


def with_base_url(entry: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A catalog entry with its server-relative links (``/api/...``) made absolute."""
    root = base_url.rstrip("/")
    return {
        key: root + value if key in _LINK_FIELDS and isinstance(value, str) and value.startswith("/") else value
        for key, value in entry.items()
    }
