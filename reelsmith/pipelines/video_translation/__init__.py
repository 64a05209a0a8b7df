"""Video Translation: recognise, translate, re-voice and caption (API.md section 4)."""

from reelsmith.pipelines.video_translation.pipeline import VideoTranslationPipeline

__all__ = ["VideoTranslationPipeline"]
