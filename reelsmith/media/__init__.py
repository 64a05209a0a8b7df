"""ffmpeg I/O and safe fetching of input URLs."""
