"""Tests of image2video."""
