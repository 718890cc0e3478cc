"""The hospital's clock: timezone-aware Asia/Shanghai, replaceable in tests."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from bff.his.port import HOSPITAL_TZ


def system_now() -> dt.datetime:
    """The real time in the hospital's zone."""
    return dt.datetime.now(HOSPITAL_TZ)


def now() -> dt.datetime:
    """Now, as the app's clock says (tests install their own)."""
    return current_app.extensions.get("clock", system_now)()


def today() -> dt.date:
    """Today's date in the hospital's zone."""
    return now().date()
