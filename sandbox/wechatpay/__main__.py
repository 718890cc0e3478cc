"""Run the WeChat Pay simulator alone: ``python -m sandbox.wechatpay [--port 8103] [--tls-port 8113]``.

Plain HTTP on ``--port`` serves everything except ``/secapi/`` (which needs the merchant
certificate); HTTPS with client-certificate verification on ``--tls-port`` serves everything.
Keys come from ``--keys`` (default ``var/keys``, made on first run); the TLS files land in
``<keys>/wechatpay_tls/``.
"""
from __future__ import annotations

import argparse
import os
import threading

from werkzeug.serving import make_server

from sandbox import keys as sandbox_keys
from sandbox.wechatpay import create_app, tls


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator on both ports until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.wechatpay", description="Sandbox WeChat Pay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_WECHATPAY_PORT", "8103")))
    parser.add_argument("--tls-port", type=int, default=int(os.environ.get("SANDBOX_WECHATPAY_TLS_PORT", "8113")))
    parser.add_argument("--keys", default="var/keys")
    parser.add_argument("--notify-scale", type=float, default=0.01, help="multiplies the 15s…6h retry schedule")
    args = parser.parse_args(argv)
    keys = sandbox_keys.ensure(args.keys)
    files = tls.ensure_tls(keys)
    app = create_app(keys, notify_scale=args.notify_scale)
    plain = make_server(args.host, args.port, app, threaded=True)
    secure = make_server(args.host, args.tls_port, app, threaded=True, ssl_context=tls.server_context(files))
    threading.Thread(target=secure.serve_forever, name="wechatpay-tls", daemon=True).start()
    print(f"sandbox WeChat Pay on http://{args.host}:{plain.server_port}/ and "
          f"https://{args.host}:{secure.server_port}/ (CA {files.ca_cert})", flush=True)
    try:
        plain.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        secure.shutdown()
        app.extensions["sandbox_wechatpay"].close()


if __name__ == "__main__":
    main()
