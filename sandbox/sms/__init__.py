"""Simulator of Tencent Cloud SMS (port 8107 by default)."""
from sandbox.sms.app import create_app

__all__ = ["create_app"]
