"""Column types: timestamps stored in UTC, read back timezone-aware in the hospital's zone."""
import datetime as dt

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from bff.his.port import HOSPITAL_TZ


class AwareDateTime(TypeDecorator):
    """SQLite forgets offsets; this keeps every timestamp aware on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an AwareDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(HOSPITAL_TZ)
