"""The command line: ``reelsmith serve | api | worker | accounts | tasks | sweep``."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from uvicorn.config import LOGGING_CONFIG

from reelsmith.doctor import Check
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import describe_account
from reelsmith.services.webhooks import describe_delivery
from reelsmith.settings import Settings, load_settings
from reelsmith.store.models import Account, Delivery, Task
from reelsmith.telemetry import metrics
from reelsmith.telemetry.logs import configure_logging

app = typer.Typer(help="reelsmith: a self-hosted video AI server that speaks Akool's open API.", no_args_is_help=True)
accounts_app = typer.Typer(help="Teams, keys, plans and credits.", no_args_is_help=True)
tasks_app = typer.Typer(help="Look at tasks.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook deliveries: send them, list them, check a captured one.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(tasks_app, name="tasks")
app.add_typer(webhooks_app, name="webhooks")
effects_app = typer.Typer(help="Image to Video effects: list them, see them.", no_args_is_help=True)
app.add_typer(effects_app, name="effects")
swap_app = typer.Typer(help="Character Swap on local files, without the server.", no_args_is_help=True)
app.add_typer(swap_app, name="swap")
translate_app = typer.Typer(help="Video Translation on local files, without the server.", no_args_is_help=True)
app.add_typer(translate_app, name="translate")
models_app = typer.Typer(help="The model-backed engines: check their weights, make tiny ones.", no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()

HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(help="Port to listen on.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _runtime(**overrides: object) -> Runtime:
    runtime = Runtime(load_settings(**overrides))
    runtime.prepare()
    return runtime


def _ensure_demo_account(runtime: Runtime) -> None:
    """On the first start, a Pro demo account, so the walk-through in the README works."""
    if runtime.accounts.list():
        return
    account, creds = runtime.accounts.create(name="demo", plan="pro", credits=runtime.settings.demo_credits)
    console.print("[bold green]Created a demo account[/] (shown once; keep it):")
    console.print(f"  clientId: [bold]{creds.client_id}[/]")
    console.print(f"  API key : [bold]{creds.api_key}[/]")
    console.print(f"  plan pro, {account.credit} credits")


def _observe(settings: Settings, owns_metrics_folder: bool = False, export_metrics: bool = False) -> None:
    """Logs in the configured format; metrics in the host's folder (docs/metrics.md), emptied
    first by the command that owns it, and served at ``REELSMITH_METRICS_LISTEN`` by the
    commands that run no API."""
    configure_logging(settings.log_format)
    metrics.use_folder(settings.metrics_folder, clean=owns_metrics_folder)
    if export_metrics and settings.metrics_listen:
        metrics.start_exporter(settings.metrics_listen)


def _serve(settings: Settings, host: str, port: int, run_workers: bool) -> None:
    from reelsmith.api.app import create_app
    from reelsmith.dispatch.embedded import WorkerPool
    from reelsmith.dispatch.reaper import start_reaper
    from reelsmith.storage.retention import RetentionSweeper

    # `serve` owns every process that writes to the host's metrics folder: it empties it.
    _observe(settings, owns_metrics_folder=run_workers)
    runtime = Runtime(settings)
    runtime.prepare()
    pool = WorkerPool(settings) if run_workers else None
    stop = threading.Event()
    if run_workers:
        _ensure_demo_account(runtime)
    if run_workers or settings.broker_url:  # in scale-out the API hosts sweep: there is no serve
        RetentionSweeper(runtime.storage, settings).start(stop)
    if settings.broker_url:
        # The API too republishes tasks whose worker died or whose message was lost, so dispatch
        # recovers even while no worker of an engine is running.
        start_reaper(runtime, stop)
    if pool is not None:
        pool.start()
    try:
        # JSON lines: uvicorn's records go through the root logger's JSON handler, not its own.
        logs = None if settings.log_format == "json" else LOGGING_CONFIG
        uvicorn.run(
            create_app(runtime), host=host, port=port, log_level="info", access_log=settings.access_log, log_config=logs
        )
    finally:
        stop.set()
        if pool is not None:
            pool.stop()


@app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default REELSMITH_WORKERS).")] = None,
) -> None:
    """The API and the workers in one process group (the embedded default)."""
    overrides = {"workers": workers} if workers is not None else {}
    _serve(load_settings(**overrides), host, port, run_workers=True)


@app.command()
def api(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Only the API: tasks wait for `reelsmith worker` processes."""
    _serve(load_settings(), host, port, run_workers=False)


@app.command()
def worker(
    engines: Annotated[str | None, typer.Option(help="Comma-separated engines (default: REELSMITH_ENGINES).")] = None,
) -> None:
    """A worker that runs tasks of its engines, one at a time: it consumes their broker queues
    when REELSMITH_BROKER_URL is set (scale-out), else claims them from the task table. Run
    one per core (or GPU) to use a host fully."""
    overrides = {"engines": engines} if engines else {}
    settings = load_settings(**overrides)
    _observe(settings, export_metrics=True)
    Runtime(settings).prepare()
    if settings.broker_url:
        from reelsmith.dispatch.celery_worker import consume

        consume(settings)
    else:
        from reelsmith.dispatch.embedded import worker_loop

        worker_loop(settings)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (every command also does this when it starts)."""
    _runtime()
    console.print("[green]the database schema is up to date[/]")


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Check this host's configuration: the database (reachable, migrated), the broker and the
    S3 bucket where configured, and that each configured engine loads. Exits 1 on a problem."""
    from reelsmith.doctor import run_checks

    _print_checks(run_checks(Runtime(load_settings())), as_json)


def _print_checks(checks: list[Check], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]))
    else:
        for check in checks:
            mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
            # The detail is text from the checks (paths, library messages), never markup.
            console.print(mark, escape(f"{check.name}: {check.detail}"), highlight=False, soft_wrap=True)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@models_app.command("check")
def models_check(as_json: JsonOpt = False) -> None:
    """Each model-backed engine: whether its weights are configured, whether they load, and on
    which device and in which precision (this loads them: as slow as a worker's first task).
    Exits 1 when configured weights do not load."""
    from reelsmith.doctor import check_models

    _print_checks(check_models(Runtime(load_settings())), as_json)


@models_app.command("make-tiny")
def models_make_tiny(
    folder: Annotated[Path, typer.Argument(help="Where to write the tiny checkpoints.")],
) -> None:
    """Write tiny random-weight checkpoints in each model engine's layout, and print the settings
    that point at them: test a host end to end in seconds, without the real downloads (the
    videos are noise). Needs the models extra: pip install -e '.[models]'."""
    from reelsmith.pipelines.model_engines import MODEL_ENGINES

    written: dict[str, str] = {}
    writers: set[str] = set()
    for engine in MODEL_ENGINES:
        module = engine.pipeline.partition(":")[0]
        if module in writers:
            continue  # one module's writer makes all its engines' weights
        writers.add(module)
        try:
            written.update(engine.make_tiny(folder / module.rsplit(".", 1)[-1]))
        except ImportError as exc:
            # Not markup: rich would read "[models]" as a style and drop it from the advice.
            console.print(
                f"{engine.title}: {exc.name} is not installed; pip install -e '.[models]'", style="red", markup=False
            )
            raise typer.Exit(1) from exc
    for name, value in written.items():
        typer.echo(f"{name}={value}")


@app.command()
def sweep() -> None:
    """Delete files past the retention period now."""
    from reelsmith.storage.retention import sweep_expired

    runtime = _runtime()
    console.print(f"deleted {sweep_expired(runtime.storage, runtime.settings)} files")


def _print_account(account: Account, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(describe_account(account)))
    else:
        _print_accounts([account], as_json=False)


def _print_accounts(accounts: list[Account], as_json: bool) -> None:
    rows = [describe_account(a) for a in accounts]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(*rows[0].keys()) if rows else Table("no accounts")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


def _admin(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except (LookupError, ValueError) as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="A label for the team.")] = "",
    plan: Annotated[str, typer.Option(help="free or pro.")] = "free",
    credits: Annotated[int, typer.Option(help="Starting balance.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """A new team; prints its clientId and API key (shown only now)."""

    def run() -> None:
        account, creds = _runtime().accounts.create(name=name, plan=plan, credits=credits)
        row = {**describe_account(account), "clientId": creds.client_id, "apiKey": creds.api_key}
        if as_json:
            typer.echo(json.dumps(row))
        else:
            for key, value in row.items():
                console.print(f"{key:>9}: {escape(str(value))}")

    _admin(run)


@accounts_app.command("list")
def accounts_list(as_json: JsonOpt = False) -> None:
    """Every team."""
    _print_accounts(_runtime().accounts.list(), as_json)


@accounts_app.command("ban")
def accounts_ban(account: str, as_json: JsonOpt = False) -> None:
    """Refuse every request and token of a team (code 1200)."""
    _admin(lambda: _print_account(_runtime().accounts.set_banned(account, True), as_json))


@accounts_app.command("unban")
def accounts_unban(account: str, as_json: JsonOpt = False) -> None:
    """Let a banned team in again."""
    _admin(lambda: _print_account(_runtime().accounts.set_banned(account, False), as_json))


@accounts_app.command("topup")
def accounts_topup(account: str, credits: int, as_json: JsonOpt = False) -> None:
    """Add credits (a negative number removes them; the balance stays at 0 or more)."""
    _admin(lambda: _print_account(_runtime().accounts.top_up(account, credits), as_json))


@accounts_app.command("set-plan")
def accounts_set_plan(account: str, plan: str, as_json: JsonOpt = False) -> None:
    """Move a team to the free or pro plan."""
    _admin(lambda: _print_account(_runtime().accounts.set_plan(account, plan), as_json))


@accounts_app.command("rotate-key")
def accounts_rotate_key(account: str, as_json: JsonOpt = False) -> None:
    """A new API key; the old key and all its tokens stop working."""

    def run() -> None:
        creds = _runtime().accounts.rotate_key(account)
        if as_json:
            typer.echo(json.dumps({"clientId": creds.client_id, "apiKey": creds.api_key}))
        else:
            console.print(f"clientId: {creds.client_id}\n API key: {creds.api_key}")

    _admin(run)


def _task_row(task: Task) -> dict[str, object]:
    return {
        "_id": task.id,
        "uid": task.account_id,
        "product": task.product,
        "status": task.status,
        "progress": task.progress,
        "credits": 0 if task.refunded else task.credits_charged,
        "create_time": task.create_time,
        "reason": task.fail_reason or "",
    }


@tasks_app.command("list")
def tasks_list(
    account: Annotated[str | None, typer.Option(help="Only this team (clientId, team_id or uid).")] = None,
    status: Annotated[int | None, typer.Option(help="Only this status (1-4).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent tasks."""
    runtime = _runtime()
    query = select(Task).order_by(Task.create_time.desc()).limit(limit)
    if account:
        query = query.where(Task.account_id == runtime.accounts.find(account).id)
    if status:
        query = query.where(Task.status == status)
    with runtime.db.read() as session:
        rows = [_task_row(t) for t in session.scalars(query)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(*(rows[0].keys() if rows else ["no tasks"]))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


@tasks_app.command("show")
def tasks_show(task_id: str) -> None:
    """Everything recorded about one task, as JSON."""
    runtime = _runtime()
    with runtime.db.read() as session:
        task = session.get(Task, task_id)
    if task is None:
        console.print(f"[red]no task {escape(task_id)}[/]")
        raise typer.Exit(1)
    record = {column.name: getattr(task, column.name) for column in Task.__table__.columns}
    typer.echo(json.dumps(record, indent=2))


@webhooks_app.command("send")
def webhooks_send() -> None:
    """Run the webhook sender (scale-out: `serve` already runs one)."""
    from reelsmith.dispatch.webhook_sender import sender_loop

    settings = load_settings()
    _observe(settings, export_metrics=True)
    runtime = _runtime()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sender_loop(runtime, stop)
    except KeyboardInterrupt:
        stop.set()


@webhooks_app.command("list")
def webhooks_list(task_id: str, as_json: JsonOpt = False) -> None:
    """The deliveries of one task, with every attempt."""
    runtime = _runtime()
    with runtime.db.read() as session:
        deliveries = list(session.scalars(select(Delivery).where(Delivery.task_id == task_id).order_by(Delivery.id)))
    rows = [describe_delivery(d) for d in deliveries]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("_id", "event", "state", "attempts", "last_status", "last_error", "url")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("_id", "event", "state", "attempts", "last_status", "last_error", "url")))
    console.print(table)


@webhooks_app.command("verify")
def webhooks_verify(
    body_file: Annotated[typer.FileText, typer.Argument(help="The captured JSON body; - for standard input.")],
    client_id: Annotated[str, typer.Option("--client-id", help="The team's clientId (16 characters).")],
    api_key: Annotated[str, typer.Option("--api-key", help="The team's API key (32 characters).")],
) -> None:
    """Check a captured webhook body's signature and print its decrypted payload, as a
    receiver would: for debugging your receiver."""
    from reelsmith.services.webhooks import WebhookBodyError, open_body

    try:
        body = json.loads(body_file.read())
        payload = open_body(body, client_id, api_key)
    except (ValueError, WebhookBodyError) as exc:
        console.print(f"[red]not valid: {escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print("[green]signature ok[/]", style="bold")
    typer.echo(json.dumps(payload, indent=2))


@effects_app.command("list")
def effects_list(as_json: JsonOpt = False) -> None:
    """Every effect: code, name, category."""
    from reelsmith.pipelines.image2video.effects import EFFECTS

    rows = [
        {"effect_code": e.code, "name": e.name, "category": e.category, "description": e.description} for e in EFFECTS
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("effect_code", "name", "category", "description")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@contextmanager
def _stage_bar(title: str) -> Iterator[Callable[[str, int], None]]:
    """A progress bar on standard error naming the stage at work; yields what a local run
    reports its stage and 0-99 progress to. Where standard error is not a terminal, rich draws
    nothing while it runs and the bar's last state once, plainly, at the end."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(title, total=100)
        shown = ""

        def show(stage: str, percent: int) -> None:
            nonlocal shown
            bar.update(task, description=f"{title}: {stage}", completed=percent)
            if stage != shown:
                shown = stage
                # A stage shorter than rich's refresh interval would otherwise never be drawn.
                bar.refresh()

        yield show
        bar.update(task, description=f"{title}: done", completed=100)


@effects_app.command("contact-sheet")
def effects_contact_sheet(
    out: Annotated[Path, typer.Argument(help="The PNG to write.")],
    picture: Annotated[Path | None, typer.Option(help="A picture to use instead of the bundled sample.")] = None,
) -> None:
    """A PNG grid with a row of frames for every effect."""
    from reelsmith.pipelines.image2video.contact_sheet import make_contact_sheet

    with _stage_bar("contact sheet") as on_stage:
        written = make_contact_sheet(out, picture, on_stage=on_stage)
    console.print(f"wrote {escape(str(written))}")


ResolutionOpt = Annotated[str, typer.Option(help="Short side of the output: 480p, 720p or 1080p.")]
SecondsOpt = Annotated[float | None, typer.Option(help="Only the first this many seconds (default: all).")]
ModeOpt = Annotated[str, typer.Option(help="replace (the person gets the face) or animate (the picture moves).")]


def _check_swap(resolution: str, mode: str) -> None:
    if resolution not in ("480p", "720p", "1080p"):
        console.print(f"[red]--resolution must be 480p, 720p or 1080p, not {escape(repr(resolution))}[/]")
        raise typer.Exit(2)
    if mode not in ("replace", "animate"):
        console.print(f"[red]--mode must be replace or animate, not {escape(repr(mode))}[/]")
        raise typer.Exit(2)


@swap_app.command("run")
def swap_run(
    image: Annotated[Path, typer.Argument(help="The character: a picture with one clear face.", exists=True)],
    video: Annotated[Path, typer.Argument(help="The source (replace) or driving (animate) video.", exists=True)],
    out: Annotated[Path, typer.Argument(help="The MP4 to write.")],
    mode: ModeOpt = "replace",
    resolution: ResolutionOpt = "720p",
    seconds: SecondsOpt = None,
) -> None:
    """One Character Swap, as a task would make it."""
    from reelsmith.pipelines.character_swap.pipeline import swap_file

    _check_swap(resolution, mode)
    with _stage_bar("character swap") as on_stage:
        info = swap_file(image, video, out, resolution, seconds, mode, on_stage=on_stage)
    made = f"{info.width}x{info.height}, {info.frame_count} frames, {info.duration:.2f} s"
    console.print(f"wrote {escape(str(out))}: {made}")


@swap_app.command("compare")
def swap_compare(
    image: Annotated[Path, typer.Argument(help="The character: a picture with one clear face.", exists=True)],
    video: Annotated[Path, typer.Argument(help="The source video.", exists=True)],
    out: Annotated[Path, typer.Argument(help="The side-by-side MP4 to write.")],
    mode: ModeOpt = "replace",
    resolution: ResolutionOpt = "480p",
    seconds: SecondsOpt = None,
) -> None:
    """A side-by-side clip: source (or driver) | character | output."""
    from reelsmith.pipelines.character_swap.pipeline import compare_swap_file

    _check_swap(resolution, mode)
    console.print(f"wrote {escape(str(compare_swap_file(image, video, out, resolution, seconds, mode)))}")


LanguageOpt = Annotated[str, typer.Option(help="The target language's code (see GET /api/open/v3/language/list).")]
CaptionOpt = Annotated[int, typer.Option(help="caption_type: 0 none, 1 original, 2 translated (burned in).")]


@translate_app.command("run")
def translate_run(
    video: Annotated[Path, typer.Argument(help="The video: an MP4 with speech.", exists=True)],
    out: Annotated[Path, typer.Argument(help="The MP4 to write.")],
    language: LanguageOpt = "es",
    lipsync: Annotated[bool, typer.Option(help="Move the speaker's mouth to the new speech.")] = False,
    caption_type: CaptionOpt = 0,
) -> None:
    """One Video Translation, as a task would make it."""
    from reelsmith.pipelines.video_translation.pipeline import translate_file

    with _stage_bar("video translation") as on_stage:
        report = translate_file(
            video, out, language, lipsync, load_settings(), on_stage=on_stage, caption_type=caption_type
        )
    console.print(f"wrote {escape(str(out))}: {report['output_seconds']:.2f} s, {len(report['lines'])} lines")
    if "lipsync" in report:
        moved = report["lipsync"]
        console.print(f"lip-sync: {moved['frames_with_face']} of {moved['frames']} frames, from {moved['source']}")


@translate_app.command("compare")
def translate_compare(
    video: Annotated[Path, typer.Argument(help="The video: an MP4 with speech.", exists=True)],
    out: Annotated[Path, typer.Argument(help="The side-by-side MP4 to write.")],
    language: LanguageOpt = "es",
) -> None:
    """A side-by-side clip: original | dubbed without lip-sync | dubbed with lip-sync (with the
    dub's sound)."""
    from reelsmith.pipelines.video_translation.pipeline import compare_dub_file

    console.print(f"wrote {escape(str(compare_dub_file(video, out, language, load_settings())))}")


if __name__ == "__main__":
    app()
