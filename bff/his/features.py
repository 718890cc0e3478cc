"""Features a hospital's HIS may not offer: a mapping without an operation turns its feature off.

The patient is told plainly (FEATURE_UNAVAILABLE, before anything is written), `/readyz` and
`flask his check` list what is off, and nothing else breaks.
"""
from __future__ import annotations

from bff.his import current
from bff.his.port import FEATURES, FeatureOff, features_off


def off() -> dict[str, str]:
    """The features this HIS turns off, name → what it is."""
    return features_off(current().missing_operations())


def require(feature: str) -> None:
    """Refuse, before any write, a use case whose HIS operations this hospital does not offer."""
    if feature not in FEATURES:
        raise KeyError(feature)
    turned_off = off()
    if feature in turned_off:
        raise FeatureOff(feature, turned_off[feature])  # bff.errors answers FEATURE_UNAVAILABLE
