"""What the tests share: generated media and speech, a webhook receiver, running our own
commands as processes, the scale-out backend, face measurements, and stand-in engines."""
