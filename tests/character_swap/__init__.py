"""Tests of character_swap."""
