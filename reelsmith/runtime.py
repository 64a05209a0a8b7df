"""The objects one process needs, built once from the settings and shared by the API, the
workers and the command line: the one place where parts are wired together, each service
given what it needs (never the runtime itself)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from reelsmith.broker.publisher import Publisher, make_publisher
from reelsmith.inputs.batch import InputSources
from reelsmith.pipelines.registry import PipelineRegistry
from reelsmith.products.catalog import Catalog
from reelsmith.services.accounts import AccountService
from reelsmith.services.character_swap import CharacterSwapService
from reelsmith.services.image2video import Image2VideoService
from reelsmith.services.lifecycle import TaskLifecycle
from reelsmith.services.operations import Operations
from reelsmith.services.quote import QuoteService
from reelsmith.services.rate_limits import RateLimiter
from reelsmith.services.tasks import TaskService
from reelsmith.services.video_translation import TranslationService
from reelsmith.services.webhooks import DeliveryService
from reelsmith.settings import Settings
from reelsmith.storage.base import Storage
from reelsmith.storage.local import LocalStorage
from reelsmith.storage.signing import UrlSigner
from reelsmith.store.db import Database

ServiceT = TypeVar("ServiceT")


@dataclass
class Runtime:
    settings: Settings
    _services: dict[object, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def db(self) -> Database:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return Database(self.settings.sqlalchemy_url)

    @cached_property
    def storage(self) -> Storage:
        if self.settings.s3_bucket:
            from reelsmith.storage.s3 import S3Storage

            return S3Storage(self.settings)
        return LocalStorage(self.settings.files_dir)

    @cached_property
    def publisher(self) -> Publisher:
        return make_publisher(self.settings, self.db)

    @cached_property
    def signer(self) -> UrlSigner:
        return UrlSigner(self.settings.secret, self.settings.retention_ms)

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(self.db, self.settings)

    @cached_property
    def tasks(self) -> TaskService:
        return TaskService(self.db, self.storage, self.publisher)

    @cached_property
    def lifecycle(self) -> TaskLifecycle:
        settings = self.settings
        return TaskLifecycle(
            self.db,
            int(settings.lease_seconds * 1000),
            settings.max_attempts,
            self.signer,
            settings.public_url,
            settings.webhook_on_processing,
        )

    @cached_property
    def deliveries(self) -> DeliveryService:
        return DeliveryService(self.db)

    @cached_property
    def operations(self) -> Operations:
        return Operations(self.db, self.settings.worker_heartbeat_seconds, lambda: self.registry.engines)

    @cached_property
    def inputs(self) -> InputSources:
        return InputSources(self.settings, self.storage, self.signer)

    def service(self, kind: Callable[[Callable[[], Catalog], TaskService, InputSources], ServiceT]) -> ServiceT:
        """The product service ``kind`` (``Image2VideoService``...), built once with what every
        product's service needs: the installed engines' catalog, the task table, the inputs."""
        built = self._services.get(kind)
        if built is None:
            built = self._services[kind] = kind(self.registry.catalog, self.tasks, self.inputs)
        return built

    @cached_property
    def quotes(self) -> QuoteService:
        """Quotes run each product service's own checks and pricing, without charging."""
        return QuoteService(
            self.service(CharacterSwapService),
            self.service(TranslationService),
            self.service(Image2VideoService),
            self.accounts,
            self.db,
            self.inputs,
        )

    @cached_property
    def rate_limits(self) -> RateLimiter:
        return RateLimiter(self.settings)

    @cached_property
    def registry(self) -> PipelineRegistry:
        return PipelineRegistry(self.settings)

    def prepare(self) -> None:
        """Create folders and bring the database schema up to date."""
        self.settings.files_dir.mkdir(parents=True, exist_ok=True)
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.db.migrate()
