"""Patient-side accounts: one per WeChat openid."""
import datetime as dt

from bff.db_types import AwareDateTime
from bff.extensions import db


class User(db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    openid = db.Column(db.String(64), nullable=False, unique=True)
    unionid = db.Column(db.String(64))
    created_at = db.Column(AwareDateTime(), nullable=False,
                           default=lambda: dt.datetime.now(dt.UTC))
