"""The message broker in scale-out: the Celery app and its queues (one per engine), and the
publisher that hands a created task to its engine's queue (a no-op in the embedded default,
where workers claim tasks from the task table)."""
