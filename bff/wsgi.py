"""WSGI entry point: `gunicorn -c deploy/gunicorn.conf.py bff.wsgi:app`."""
from dotenv import load_dotenv

from bff.app import create_app
from bff.jobs import start_in_process

load_dotenv()  # a .env beside the checkout, if hospital IT wrote one
app = create_app()
start_in_process(app)
