"""WSGI entry point: `gunicorn -c deploy/gunicorn.conf.py bff.wsgi:app`.

The flask command line loads this module too (FLASK_APP=bff.wsgi:app) for `flask db upgrade`,
`flask staff create`, `flask payments reconcile` …; those get the app without the in-process job
and outbox threads, which would race the command and do outbox work from a process about to exit.
gunicorn (behind `make run` too) and `flask run` serve, and start them.
"""
import click
from dotenv import load_dotenv
from flask.cli import ScriptInfo, run_command

from bff.app import create_app
from bff.jobs import start_in_process


def _serving() -> bool:
    """False while the flask command line loads the app for a command other than `flask run`.

    Flask loads the app inside the click context of its command line (the group's while it looks
    up an app command, `run`'s own for `flask run`); gunicorn imports it outside any.
    """
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.find_object(ScriptInfo) is None or ctx.command is run_command


load_dotenv()  # a .env beside the checkout, if hospital IT wrote one
app = create_app()
if _serving():
    start_in_process(app)
