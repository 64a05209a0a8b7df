"""A Python client for Akool's open API, as reelsmith serves it (and as Akool does: point it at
``https://openapi.akool.com``). Sync (:class:`Client`) and asyncio (:class:`AsyncClient`), on
httpx; it imports nothing of the reelsmith server. See docs/client.md.

    from reelsmith.client import Client

    with Client("http://127.0.0.1:8000", api_key=KEY) as client:
        picture = client.upload("photo.png")
        task = client.create_image_to_video(picture.url, "slow zoom into her face")
        done = client.wait(task, on_progress=lambda info: print(info.status, info.progress))
        client.download(done.result_url, "result.mp4")
"""

from reelsmith.client._async import AsyncClient
from reelsmith.client._sync import Client
from reelsmith.client._waiting import Backoff
from reelsmith.client.errors import (
    AccountBannedError,
    ApiError,
    AuthenticationError,
    ClientError,
    InsufficientCreditsError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TaskFailedError,
    UnexpectedResponseError,
    WaitTimeoutError,
    WebhookError,
)
from reelsmith.client.types import (
    AudioSplits,
    BatchFailure,
    CharacterSwapTask,
    Deletion,
    Delivery,
    DeliveryAttempt,
    Effect,
    Image2VideoBatch,
    Image2VideoTask,
    Language,
    ModelResolution,
    Refusal,
    StudioVoice,
    TaskInfo,
    TaskStatus,
    TranslationTask,
    Upload,
    VideoModel,
    Voice,
    VoicePage,
    WebhookPayload,
)
from reelsmith.client.webhooks import WebhookBody, decrypt_payload, open_webhook, verify_signature

__all__ = [
    "AccountBannedError",
    "ApiError",
    "AsyncClient",
    "AudioSplits",
    "AuthenticationError",
    "Backoff",
    "BatchFailure",
    "CharacterSwapTask",
    "Client",
    "ClientError",
    "Deletion",
    "Delivery",
    "DeliveryAttempt",
    "Effect",
    "Image2VideoBatch",
    "Image2VideoTask",
    "InsufficientCreditsError",
    "InvalidParameterError",
    "Language",
    "ModelResolution",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Refusal",
    "StudioVoice",
    "TaskFailedError",
    "TaskInfo",
    "TaskStatus",
    "TranslationTask",
    "UnexpectedResponseError",
    "Upload",
    "VideoModel",
    "Voice",
    "VoicePage",
    "WaitTimeoutError",
    "WebhookBody",
    "WebhookError",
    "WebhookPayload",
    "decrypt_payload",
    "open_webhook",
    "verify_signature",
]
