"""One package per product; each a sequence of named stages over media files."""
