"""Getting tasks to workers: the embedded pool (claiming from the task table); leases."""
