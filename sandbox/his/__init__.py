"""Sandbox HIS: a fake hospital information system speaking the common ``Invoke(code, xml)`` SOAP shape.

Run it with ``python -m sandbox.his --port 8101``; tests use :func:`create_app`.
"""
from sandbox.his.app import create_app

__all__ = ["create_app"]
