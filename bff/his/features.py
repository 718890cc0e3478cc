"""Features a hospital's HIS may not offer: a mapping without an operation turns its feature off.

The patient is told plainly (FEATURE_UNAVAILABLE, before anything is written), `/readyz` and
`flask his check` list what is off, and nothing else breaks.
"""
from __future__ import annotations

from flask import current_app

from bff.errors import AppError
from bff.his.port import FEATURES, features_off


def off() -> dict[str, str]:
    """The features this HIS turns off, name → what it is."""
    return features_off(current_app.extensions["his"].missing_operations())


def require(feature: str) -> None:
    """Refuse, before any write, a use case whose HIS operations this hospital does not offer."""
    if feature not in FEATURES:
        raise KeyError(feature)
    turned_off = off()
    if feature in turned_off:
        raise AppError("FEATURE_UNAVAILABLE", f"本院暂未开通线上{turned_off[feature]}，请到医院窗口办理",
                       details={"feature": feature})
