"""Replaceable models behind small interfaces (face and pose landmarks, segmentation, speech
recognition, translation, speech synthesis, video generation). Pipelines use engines; an engine
never knows about tasks or credits. Each product issue adds the engines it needs here."""
