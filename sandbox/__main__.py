"""Start every simulator on loopback: `python -m sandbox [--data-dir DIR]`.

Ports come from the environment (defaults as in API.md): SANDBOX_HIS_PORT 8101,
SANDBOX_WECHAT_PORT 8102. Stops on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import argparse
import os
import signal
import threading

from werkzeug.serving import make_server

from sandbox.his.app import create_app as create_his
from sandbox.wechat.app import create_app as create_wechat


def build_servers(host: str, data_dir: str, ports: dict[str, int], clock=None) -> dict:
    """Make (not start) a threaded server per simulator; a port of 0 picks a free one."""
    os.makedirs(data_dir, exist_ok=True)
    apps = {"his": create_his(os.path.join(data_dir, "sandbox-his.sqlite3"), clock), "wechat": create_wechat()}
    return {name: make_server(host, ports.get(name, 0), app, threaded=True) for name, app in apps.items()}


def serve(servers: dict) -> list[threading.Thread]:
    """Serve each in a daemon thread."""
    threads = [threading.Thread(target=s.serve_forever, name=f"sandbox-{n}", daemon=True) for n, s in servers.items()]
    for thread in threads:
        thread.start()
    return threads


def main(argv: list[str] | None = None) -> None:
    """Run all simulators until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Yiqiao sandbox simulators")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default="var/sandbox")
    args = parser.parse_args(argv)
    ports = {"his": int(os.environ.get("SANDBOX_HIS_PORT", "8101")),
             "wechat": int(os.environ.get("SANDBOX_WECHAT_PORT", "8102"))}
    servers = build_servers(args.host, args.data_dir, ports)
    serve(servers)
    for name, server in servers.items():
        print(f"sandbox {name}: http://{args.host}:{server.server_port}/", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for server in servers.values():
        server.shutdown()


if __name__ == "__main__":
    main()
