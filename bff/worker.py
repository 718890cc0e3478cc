"""Celery entry point: `celery -A bff.worker:celery worker --beat` (production background work)."""
from dotenv import load_dotenv

from bff.app import create_app

load_dotenv()
app = create_app()
if "celery" not in app.extensions:
    raise SystemExit("the Celery worker needs CELERY_BROKER_URL (or REDIS_URL) set to the Redis broker")
celery = app.extensions["celery"]
