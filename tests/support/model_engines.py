"""Checks shared by the model-backed engines' tests."""

from __future__ import annotations

import pytest

from reelsmith.doctor import check_models
from reelsmith.pipelines.base import EngineUnavailable
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings


def assert_unlisted_and_explained(settings: Settings, model: str, engine: str, pipeline_type: type, words: str) -> None:
    """On a host with ``settings``, ``model`` is not in Character Swap's catalog, its engine's
    pipeline (a ``pipeline_type``) refuses to load saying ``words``, and so does `models check`."""
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        assert runtime.registry.catalog().model(model, "character_swap") is None
        pipeline = runtime.registry.load(engine)
        assert isinstance(pipeline, pipeline_type)
        with pytest.raises(EngineUnavailable, match=words):
            pipeline.load_check()
        [check] = [c for c in check_models(runtime) if model in c.name]
        assert not check.ok and words in check.detail
    finally:
        runtime.db.dispose()
