"""Extensions created unbound and attached to the app in the factory."""
from flask import g, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

from bff.errors import EnvelopeApi

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Objects keep their values after a commit: a booking commits at each step (so a crash leaves a
# state recovery understands), and reloading every object after each of them cost a query each.
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING), session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True, compare_type=True)
api = EnvelopeApi()


def rate_limit_key() -> str:
    """Limits are per user (openid), not per IP: thousands of patients share one NAT address."""
    user_id = getattr(g, "user_id", None)
    return f"user:{user_id}" if user_id else f"ip:{request.remote_addr}"


limiter = Limiter(key_func=rate_limit_key, headers_enabled=True, swallow_errors=True,
                  in_memory_fallback_enabled=True, default_limits=[])
