"""Command line entry: ``python -m sandbox.alipay [--host 127.0.0.1] [--port 8104] [--keys var/keys]``.

The keys directory is made by ``sandbox.keys.ensure`` when absent (the BFF must use the same one).
``SANDBOX_ALIPAY_NOTIFY_SCALE`` divides Alipay's real resend schedule (default 60: 4 s, 10 s, ...).
"""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import make_server

from sandbox import keys as sandbox_keys
from sandbox.alipay.app import create_app
from sandbox.alipay.notifier import REAL_RETRY_DELAYS
from sandbox.serving import serve_until_interrupted


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the Alipay simulator (threaded) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.alipay", description="Sandbox Alipay gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_ALIPAY_PORT", "8104")))
    parser.add_argument("--keys", default="var/keys", help="sandbox keys directory (made when absent)")
    args = parser.parse_args(argv)
    scale = float(os.environ.get("SANDBOX_ALIPAY_NOTIFY_SCALE", "60"))
    app = create_app(sandbox_keys.ensure(args.keys), retry_delays=tuple(d / scale for d in REAL_RETRY_DELAYS))
    server = make_server(args.host, args.port, app, threaded=True)
    serve_until_interrupted(
        server, f"sandbox Alipay gateway on http://{args.host}:{server.server_port}/gateway.do (keys {args.keys})")


if __name__ == "__main__":
    main()
