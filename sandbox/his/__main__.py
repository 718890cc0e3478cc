"""Command line entry: ``python -m sandbox.his --host 127.0.0.1 --port 8101 --db PATH``."""
from __future__ import annotations

import argparse

from werkzeug.serving import make_server

from sandbox.his.app import create_app
from sandbox.serving import serve_until_interrupted


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the sandbox HIS (threaded) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.his", description="Sandbox HIS (SOAP Invoke)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--db", default=None, help="SQLite file (default: a new temp file)")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, create_app(args.db), threaded=True)
    db_path = server.app.extensions["sandbox_his"].store.path
    serve_until_interrupted(server, f"sandbox HIS on http://{args.host}:{args.port}/his/ws?wsdl (db {db_path})")


if __name__ == "__main__":
    main()
