"""Where media files live (a local folder), signed expiring URLs, and retention."""
