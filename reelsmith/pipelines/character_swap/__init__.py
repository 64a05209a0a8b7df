from reelsmith.pipelines.character_swap.pipeline import CharacterSwapPipeline

__all__ = ["CharacterSwapPipeline"]
