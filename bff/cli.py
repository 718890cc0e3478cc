"""`flask his check` and `flask jobs …`: what hospital IT runs by hand."""
from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from bff.his import current as current_his
from bff.his import features
from bff.his.port import FEATURES, HisError

his_cli = AppGroup("his", help="Check the connection to the hospital's HIS.")
jobs_cli = AppGroup("jobs", help="Run background jobs once.")
payments_cli = AppGroup("payments", help="Money: reconciliation with the gateways and the HIS.")
kiosk_cli = AppGroup("kiosk", help="Hospital kiosks allowed to take payments by face.")
staff_cli = AppGroup("staff", help="Hospital staff accounts.")




@his_cli.command("check")
def his_check():
    """Ping the HIS and read its catalog; exit 1 if anything fails."""
    his = current_his()
    try:
        his.ping()
        departments = his.list_departments()
        doctors = his.list_doctors()
        today = dt.date.today()
        schedules = his.list_schedules(date_from=today, date_to=today + dt.timedelta(days=7))
    except HisError as error:
        click.echo(f"HIS check failed: {type(error).__name__}: {error}", err=True)
        raise SystemExit(1) from error
    click.echo(f"HIS ok ({current_app.config['HIS_ADAPTER']}): {len(departments)} departments, "
               f"{len(doctors)} doctors, {len(schedules)} schedules in the next 8 days")
    for name, label in features.off().items():
        click.echo(f"feature off: {name} ({label}) - the HIS mapping lacks: "
                   f"{', '.join(sorted(set(FEATURES[name][1]) & his.missing_operations()))}")


@jobs_cli.command("expire-holds")
def expire_holds():
    """Release slots held for payment past their expiry (online payment mode)."""
    from bff.appointments.service import expire_holds as expire

    click.echo(f"released {expire()} expired holds")


@jobs_cli.command("recover-pending")
@click.option("--older-than", default=None, type=int, help="seconds (default PENDING_RECOVERY_SECONDS)")
def recover_pending(older_than):
    """Settle bookings left pending while the HIS was unreachable."""
    from bff.appointments.service import recover_pending as recover
    from bff.appointments.state import recovery_age

    age = dt.timedelta(seconds=older_than) if older_than is not None else recovery_age(current_app.config)
    click.echo(f"settled {recover(age)} pending bookings")


@payments_cli.command("reconcile")
@click.option("--date", "date_", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--dir", "directory", default=None, help="where to write the report (default RECONCILE_DIR)")
def reconcile(date_, directory):
    """Match the gateways' bills, the ledger and the HIS for a day; exit 1 on any difference."""
    from bff.payments import reconcile as reconciliation
    from payments.interface import PaymentError

    try:
        report, folder = reconciliation.run(date_.date(), directory)
    except (HisError, PaymentError) as error:
        click.echo(f"reconciliation could not read a source: {type(error).__name__}: {error}", err=True)
        raise SystemExit(2) from error
    click.echo(report.summary(), nl=False)
    click.echo(f"report: {folder}/reconciliation.csv, {folder}/summary.txt")
    if not report.ok:
        raise SystemExit(1)


@jobs_cli.command("outbox")
def outbox_once():
    """Run the outbox's due work once (a Celery worker or the in-process thread does this all the time)."""
    from bff import outbox

    click.echo(f"finished {outbox.run_due()} outbox items, {outbox.pending_count()} still pending")


@kiosk_cli.command("add")
@click.option("--id", "kiosk_id", required=True, help="the device id, e.g. MZ-1F-01")
@click.option("--name", default="", help="where it stands, e.g. 门诊一楼大厅")
def kiosk_add(kiosk_id, name):
    """Provision a kiosk (or give it a new key); prints its key once."""
    from bff.kiosk.auth import provision

    if not 1 <= len(kiosk_id) <= 32:
        raise click.BadParameter("1 to 32 characters", param_hint="--id")
    click.echo(f"kiosk {kiosk_id} key (store it on the device, it is not shown again): {provision(kiosk_id, name)}")


@kiosk_cli.command("disable")
@click.option("--id", "kiosk_id", required=True)
def kiosk_disable(kiosk_id):
    """Stop accepting a kiosk's requests."""
    from bff.extensions import db
    from bff.kiosk.models import KioskDevice

    device = db.session.get(KioskDevice, kiosk_id)
    if device is None:
        raise click.ClickException(f"no kiosk {kiosk_id}")
    device.active = False
    db.session.commit()
    click.echo(f"kiosk {kiosk_id} disabled")


@staff_cli.command("create")
@click.option("--username", required=True)
@click.option("--name", required=True, help="the person's name, e.g. 王芳")
@click.option("--role", "roles", multiple=True, required=True,
              help="doctor, nurse, registrar, pharmacist or admin (repeat for several)")
@click.password_option(prompt="Password", help="asked for when not given")
def staff_create(username, name, roles, password):
    """Create a staff account with a hashed password."""
    from bff.staff import service

    try:
        account = service.create(username, name, list(roles), password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"staff {account.username} ({', '.join(account.role_list)}) created, id {account.id}")


@staff_cli.command("disable")
@click.argument("username")
def staff_disable(username):
    """Stop an account now (someone left, a lost phone): no login, and its tokens stop working."""
    _staff_change("disable", username)


@staff_cli.command("unlock")
@click.argument("username")
def staff_unlock(username):
    """Lift the lockout after too many wrong passwords, from every address (and re-enable a disabled account)."""
    _staff_change("unlock", username)


@staff_cli.command("set-password")
@click.argument("username")
@click.password_option(prompt="New password", help="asked for when not given")
def staff_set_password(username, password):
    """Give an account a new password; tokens issued before stop working."""
    _staff_change("set_password", username, password)


def _staff_change(what: str, username: str, *args) -> None:
    from bff.staff import service

    try:
        account = getattr(service, what)(username, *args)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"staff {account.username}: {what.replace('_', ' ')} done")


@staff_cli.command("seed-demo")
def staff_seed_demo():
    """The sandbox's demo accounts (admin01, registrar01, nurse01, doctor01, pharmacist01); never in production."""
    from bff.staff import service

    try:
        names = service.seed_demo()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"demo staff accounts ready: {', '.join(names)} (password {service.DEMO_PASSWORD})")
