"""The HIS port, its adapters and the resilience around them; `current()` is the one the app uses."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from bff.his.port import HisPort


def current() -> HisPort:
    """The HIS adapter this app was built with (bootstrap.build_his, wrapped in resilience)."""
    return current_app.extensions["his"]
