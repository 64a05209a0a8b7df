"""An engine that cannot even be built (say, its model path is wrong), for the tests."""

from __future__ import annotations

from reelsmith.settings import Settings


class BrokenPipeline:
    engine = "image2video"

    def __init__(self, settings: Settings) -> None:
        raise RuntimeError("model file /models/missing.bin not found")
