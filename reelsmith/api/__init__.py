"""HTTP: routes per product, the envelope and codes, authentication."""
