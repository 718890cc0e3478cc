"""WSGI entry point: `gunicorn -c deploy/gunicorn.conf.py bff.wsgi:app`."""
from bff.app import create_app
from bff.jobs import start_in_process

app = create_app()
start_in_process(app)
