"""Which pipeline runs each engine, and what the installed engines offer.

The three built-in engines are looked up by module path; a product whose module is not in this
build is reported unavailable with a reason, and its tasks fail at once with that reason (and
a refund). Operators add or replace engines with ``REELSMITH_ENGINE_PLUGINS``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from reelsmith.pipelines.base import EngineUnavailable, Pipeline
from reelsmith.settings import Settings

log = logging.getLogger("reelsmith.engines")

PRODUCT_ENGINE = {
    "character_swap": "character-swap",
    "video_translation": "video-translation",
    "image2video": "image2video",
}

BUILTIN = {
    "character-swap": "reelsmith.pipelines.character_swap:CharacterSwapPipeline",
    "video-translation": "reelsmith.pipelines.video_translation:VideoTranslationPipeline",
    "image2video": "reelsmith.pipelines.image2video:Image2VideoPipeline",
}

PRODUCT_TITLE = {
    "character-swap": "Character Swap",
    "video-translation": "Video Translation",
    "image2video": "Image to Video",
}


class PipelineRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._targets = {**BUILTIN, **settings.engine_plugins}
        self._loaded: dict[str, Pipeline] = {}
        self._missing: dict[str, str] = {}

    def load(self, engine: str) -> Pipeline:
        """The pipeline for ``engine``, built once per process; raises EngineUnavailable."""
        if engine in self._loaded:
            return self._loaded[engine]
        if engine in self._missing:
            raise EngineUnavailable(self._missing[engine])
        target = self._targets.get(engine)
        title = PRODUCT_TITLE.get(engine, engine)
        try:
            if target is None:
                raise EngineUnavailable(f"no engine named {engine!r} is configured")
            module_name, _, class_name = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                raise EngineUnavailable(
                    f"the {title} engine is not installed on this server "
                    f"(module {module_name} not found: {exc.name}); the credits were refunded"
                ) from exc
            pipeline = getattr(module, class_name)(self.settings)
        except EngineUnavailable as exc:
            self._missing[engine] = str(exc)
            raise
        except Exception as exc:  # a broken engine must not break the API or the workers
            log.exception("the %s engine (%s) failed to load", engine, target)
            reason = f"the {title} engine failed to load ({exc.__class__.__name__}: {exc}); the credits were refunded"
            self._missing[engine] = reason
            raise EngineUnavailable(reason) from exc
        self._loaded[engine] = pipeline
        return pipeline

    def catalog(self, name: str) -> list[dict[str, Any]]:
        """Entries of one catalog (``effects``, ``models``, ``languages``, ``voices``) across
        every installed engine; empty when none offers it."""
        entries: list[dict[str, Any]] = []
        for engine in self._targets:
            try:
                pipeline = self.load(engine)
            except EngineUnavailable:
                continue
            catalog = getattr(pipeline, "catalog", None)
            if catalog is not None:
                entries.extend(catalog().get(name, ()))
        return entries
