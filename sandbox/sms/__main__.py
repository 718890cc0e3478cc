"""Command line entry: ``python -m sandbox.sms [--host 127.0.0.1] [--port 8107] [--keys var/keys]``.

The SecretId/SecretKey and the SMS application come from the sandbox keys (made when absent; the
BFF must use the same directory). The port also from SANDBOX_SMS_PORT.
"""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import make_server

from sandbox import keys as sandbox_keys
from sandbox.serving import serve_until_interrupted
from sandbox.sms.app import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the simulator (threaded) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.sms", description="Sandbox Tencent Cloud SMS")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_SMS_PORT", "8107")))
    parser.add_argument("--keys", default="var/keys", help="sandbox keys directory (made when absent)")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, create_app(sandbox_keys.ensure(args.keys)), threaded=True)
    serve_until_interrupted(server, f"sandbox Tencent Cloud SMS on http://{args.host}:{server.server_port}/")


if __name__ == "__main__":
    main()
