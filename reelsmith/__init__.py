"""reelsmith: a self-hosted video AI server that speaks Akool's open API."""

__version__ = "0.1.0"
