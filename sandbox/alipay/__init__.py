"""Sandbox of the Alipay open-platform gateway: RSA2-checked ``/gateway.do``, signed answers and notifications.

Run it alone with ``python -m sandbox.alipay --port 8104``; tests use :func:`create_app`.
"""
from sandbox.alipay.app import create_app

__all__ = ["create_app"]
