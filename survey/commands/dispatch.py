"""`flask scheduler` (keeps running) and `flask dispatch --once` (one pass, for cron)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.until_stopped import stop_on_sigterm, wait_until


@click.command("scheduler")
@with_appcontext
def run_scheduler() -> None:
    """Run the scheduler (invite, remind, expire, deliver) until Ctrl-C or SIGTERM."""
    from survey.scheduler import build_scheduler, intervals

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app, blocking=False)
    stop = stop_on_sigterm()
    scheduler.start()
    jobs = ", ".join(f"{name} every {seconds}s" for name, seconds in intervals(app).items())
    click.echo(f"Scheduler running ({jobs}). Stop with Ctrl-C.")
    try:
        wait_until(stop)
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


COMMANDS = (run_scheduler, dispatch)
