"""What reelsmith tells its operator: Prometheus metrics and log records (text or JSON) that
carry the request and the task they belong to. It imports nothing of reelsmith's, so every
layer may count and log through it."""
