"""Command line entry: ``python -m sandbox.healthcard --host 127.0.0.1 --port 8105``.

The app id, secret and hospital id come from HEALTH_CARD_APP_ID, HEALTH_CARD_APP_SECRET and
HEALTH_CARD_HOSPITAL_ID (sandbox-only defaults otherwise); the port also from
SANDBOX_HEALTHCARD_PORT.
"""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import make_server

from sandbox.healthcard.app import create_app
from sandbox.serving import serve_until_interrupted


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the simulator (threaded) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.healthcard", description="Health card platform sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_HEALTHCARD_PORT", "8105")))
    parser.add_argument("--qr-ttl", type=int, default=60, help="seconds a dynamic QR code lives")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, create_app(qr_ttl_seconds=args.qr_ttl), threaded=True)
    serve_until_interrupted(server, f"sandbox health card platform on http://{args.host}:{server.server_port}/")


if __name__ == "__main__":
    main()
