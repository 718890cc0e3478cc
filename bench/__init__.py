"""Yiqiao performance bench: `python -m bench` (or `make bench`) prints the catalog and release-rush tables.

Everything runs on loopback with servers the bench starts and stops itself; results are also written
to `bench/results/latest.txt`.
"""
import os

# The bench runs the sandbox; an unset YIQIAO_ENV means production.
os.environ.setdefault("YIQIAO_ENV", "development")

