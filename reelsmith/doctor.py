"""``reelsmith doctor``: can this host's configuration work? Checks that the database answers
and is migrated, that the broker and the bucket (where configured) are reachable, and that each
configured engine loads."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from reelsmith.runtime import Runtime
from reelsmith.services.disk_room import disk_rooms
from reelsmith.store.db import MIGRATIONS_DIR


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_database(runtime: Runtime) -> Check:
    name = f"database ({runtime.db.engine.url.render_as_string(hide_password=True)})"
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        return Check(name, False, f"cannot connect: {exc.__class__.__name__}: {exc}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    if current != head:
        return Check(name, False, f"schema at {current}, code expects {head}: run `reelsmith migrate`")
    return Check(name, True, f"reachable, schema at {head}")


def check_broker(runtime: Runtime) -> Check:
    settings = runtime.settings
    if not settings.broker_url:
        return Check("broker", True, "none: embedded mode, workers claim tasks from the task table")
    from reelsmith.broker.celery_app import make_celery

    app = make_celery(settings)
    name = f"broker ({app.connection_for_write().as_uri()})"
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        return Check(name, False, f"cannot connect: {exc.__class__.__name__}: {exc}")
    return Check(name, True, "reachable")


def check_storage(runtime: Runtime) -> Check:
    settings = runtime.settings
    where = f"s3://{settings.s3_bucket}/{settings.s3_prefix}" if settings.s3_bucket else str(settings.files_dir)
    try:
        answer = runtime.storage.check()
    except Exception as exc:
        answer = f"error: {exc.__class__.__name__}: {exc}"
    return Check(f"storage ({where})", answer == "ok", "reachable and writable" if answer == "ok" else answer)


def check_disk(runtime: Runtime) -> list[Check]:
    """Free space where files and scratch work are written, against REELSMITH_STORAGE_MIN_FREE_MB."""
    return [Check(f"disk ({room.folder})", room.enough, room.describe()) for room in disk_rooms(runtime.settings)]


def check_engines(runtime: Runtime) -> list[Check]:
    from reelsmith.pipelines.base import EngineUnavailable

    checks = []
    for engine in runtime.registry.engines:
        try:
            pipeline = runtime.registry.load(engine)
        except EngineUnavailable as exc:
            checks.append(Check(f"engine {engine}", False, str(exc)))
            continue
        checks.append(Check(f"engine {engine}", True, f"loads ({type(pipeline).__module__})"))
    return checks


def check_models(runtime: Runtime) -> list[Check]:
    """Each model-backed engine: not configured, or its weights loaded (device and precision),
    or why they do not load. Loading takes as long as a worker's first task takes to start."""
    from reelsmith.pipelines.base import EngineUnavailable
    from reelsmith.pipelines.model_engines import MODEL_ENGINES, LoadCheck

    checks = []
    for engine in MODEL_ENGINES:
        name = f"model {engine.model} ({engine.engine})"
        weights = engine.weights(runtime.settings)
        if weights is None:
            checks.append(Check(name, True, f"not configured ({engine.setting})"))
            continue
        try:
            pipeline = runtime.registry.load(engine.engine)
            if not isinstance(pipeline, LoadCheck):
                raise EngineUnavailable(f"{type(pipeline).__name__} cannot check its weights")
            where = pipeline.load_check()
        except Exception as exc:  # every reason a model does not load is the operator's to read
            checks.append(Check(name, False, f"{weights}: {exc}"))
            continue
        checks.append(Check(name, True, f"{weights}: loaded on {where}"))
    return checks


def run_checks(runtime: Runtime) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    return [
        check_database(runtime),
        check_broker(runtime),
        check_storage(runtime),
        *check_disk(runtime),
        *check_engines(runtime),
    ]
