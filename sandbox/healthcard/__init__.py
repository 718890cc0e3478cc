"""Simulator of the electronic health card open platform (port 8105 by default)."""
from sandbox.healthcard.app import create_app

__all__ = ["create_app"]
