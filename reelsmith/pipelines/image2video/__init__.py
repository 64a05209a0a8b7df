"""Image to Video: effects and prompt-driven motion from one picture, with sound."""

from reelsmith.pipelines.image2video.pipeline import Image2VideoPipeline

__all__ = ["Image2VideoPipeline"]
