"""Tests of video_translation."""
