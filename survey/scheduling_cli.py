"""Commands: `participants import FILE --study CODE`, `scheduler`, `dispatch --once`."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from survey.db import session_scope
from survey.models import Study
from survey.services.enrolment import EnrolmentError, import_csv

participants_cli = AppGroup("participants", help="Enrol participants in a study.")


@participants_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--study", "study_code", required=True, help="The study's code.")
def import_participants(file: Path, study_code: str) -> None:
    """Enrol or update the participants listed in a CSV FILE (all or nothing)."""
    with session_scope() as db:
        study = db.scalar(select(Study).where(Study.code == study_code))
        if study is None:
            raise click.BadParameter(f"no study with code '{study_code}'", param_hint="--study")
        try:
            result = import_csv(db, study, file.read_bytes())
        except EnrolmentError as exc:
            click.echo(f"{file}: rejected, nothing was written. Problems:", err=True)
            for problem in exc.problems:
                click.echo(f"  {file}: {problem}", err=True)
            sys.exit(1)
    click.echo(f"{file}: {result.summary()} in study {study_code}.")


@click.command("scheduler")
@with_appcontext
def run_scheduler() -> None:
    """Run the scheduler (invite, remind, expire, deliver) until Ctrl-C or SIGTERM."""
    from survey.scheduler import build_scheduler, intervals

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app, blocking=False)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # only set a flag here; the main thread shuts down cleanly

    signal.signal(signal.SIGTERM, _stop)
    scheduler.start()
    jobs = ", ".join(f"{name} every {seconds}s" for name, seconds in intervals(app).items())
    click.echo(f"Scheduler running ({jobs}). Stop with Ctrl-C.")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping: waiting for running jobs to finish ...")
        scheduler.shutdown(wait=True)
    click.echo("Scheduler stopped.")


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Run one pass of every step and exit (for cron).")
@with_appcontext
def dispatch(once: bool) -> None:
    """Materialise, open, remind, expire and deliver: one pass, then print what was done."""
    from survey.scheduler import PassFailed, run_pass

    if not once:
        raise click.UsageError("use --once (for cron), or `flask scheduler` to keep running")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = run_pass(app)
    except PassFailed as failed:
        report = failed.report
    for line in report.lines():
        click.echo(line)
    for error in report.delivery.errors[:10]:
        click.echo(f"delivery problem: {error}", err=True)
    for step, error in report.failures.items():
        click.echo(f"step {step} FAILED: {error}", err=True)
    if report.failures:
        sys.exit(1)


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(participants_cli)
    app.cli.add_command(run_scheduler)
    app.cli.add_command(dispatch)
