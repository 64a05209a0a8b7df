"""Which pipeline runs each engine, and what the installed engines offer.

The built-in engines are the products' pipelines (each product module names its own); a
product whose pipeline is not in this build is reported unavailable with a reason, and its
tasks fail at once with that reason (and a refund). Operators add or replace engines with
``REELSMITH_ENGINE_PLUGINS``.
"""

from __future__ import annotations

import importlib
import logging

from reelsmith.pipelines.base import EffectPreviews, EngineUnavailable, Pipeline, VoicePreviews
from reelsmith.pipelines.model_engines import configured_engines, model_engine
from reelsmith.products import PRODUCTS, product_of_engine
from reelsmith.products.catalog import Catalog
from reelsmith.settings import Settings

log = logging.getLogger("reelsmith.engines")

BUILTIN = {product.engine: product.pipeline for product in PRODUCTS.values()}


def _title(engine: str) -> str:
    product, model = product_of_engine(engine), model_engine(engine)
    return model.title if model is not None else product.title if product is not None else engine


class PipelineRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._targets = {**BUILTIN, **configured_engines(settings), **settings.engine_plugins}
        self._loaded: dict[str, Pipeline] = {}
        self._missing: dict[str, str] = {}

    def load(self, engine: str) -> Pipeline:
        """The pipeline for ``engine``, built once per process; raises EngineUnavailable."""
        if engine in self._loaded:
            return self._loaded[engine]
        if engine in self._missing:
            raise EngineUnavailable(self._missing[engine])
        target = self._targets.get(engine)
        title = _title(engine)
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
            pipeline: Pipeline = getattr(module, class_name)(self.settings)
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

    @property
    def engines(self) -> list[str]:
        """The engines this host's workers run: ``REELSMITH_ENGINES``, else every engine known."""
        return list(self.settings.engines) or list(self._targets)

    def _installed(self) -> list[Pipeline]:
        pipelines = []
        for engine in self._targets:
            try:
                pipelines.append(self.load(engine))
            except EngineUnavailable:
                continue
        return pipelines

    def catalog(self) -> Catalog:
        """What every installed engine offers, together."""
        return Catalog.merged(pipeline.catalog().of_engine(pipeline.engine) for pipeline in self._installed())

    def effect_previews(self, engine: str) -> EffectPreviews | None:
        """``engine``'s effect previews, where it is installed and shows them."""
        try:
            pipeline = self.load(engine)
        except EngineUnavailable:
            return None
        return pipeline if isinstance(pipeline, EffectPreviews) else None

    def voice_previews(self, engine: str) -> VoicePreviews | None:
        """``engine``'s voice previews, where it is installed and plays them."""
        try:
            pipeline = self.load(engine)
        except EngineUnavailable:
            return None
        return pipeline if isinstance(pipeline, VoicePreviews) else None
