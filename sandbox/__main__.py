"""Start every simulator on loopback: `python -m sandbox [--data-dir DIR] [--keys-dir DIR]`.

Ports come from the environment (defaults as in API.md): SANDBOX_HIS_PORT 8101, SANDBOX_WECHAT_PORT
8102, SANDBOX_WECHATPAY_PORT 8103 (+ SANDBOX_WECHATPAY_TLS_PORT 8113, mutual TLS for /secapi/),
SANDBOX_ALIPAY_PORT 8104, SANDBOX_HEALTHCARD_PORT 8105, SANDBOX_SMS_PORT 8107 (Tencent Cloud SMS). The
gateways' keys and the SMS API key pair are made in the keys directory on first start (default
var/keys) and shared with the BFF. Stops on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import dataclass

from werkzeug.serving import make_server

from sandbox import keys as sandbox_keys
from sandbox.alipay import create_app as create_alipay
from sandbox.healthcard import create_app as create_healthcard
from sandbox.his.app import create_app as create_his
from sandbox.sms import create_app as create_sms
from sandbox.wechat.app import create_app as create_wechat
from sandbox.wechatpay import create_app as create_wechatpay
from sandbox.wechatpay import tls

PORTS = {"his": ("SANDBOX_HIS_PORT", 8101), "wechat": ("SANDBOX_WECHAT_PORT", 8102),
         "wechatpay": ("SANDBOX_WECHATPAY_PORT", 8103), "wechatpay_tls": ("SANDBOX_WECHATPAY_TLS_PORT", 8113),
         "alipay": ("SANDBOX_ALIPAY_PORT", 8104), "healthcard": ("SANDBOX_HEALTHCARD_PORT", 8105),
         "sms": ("SANDBOX_SMS_PORT", 8107)}


def ports_from_env() -> dict[str, int]:
    """Each simulator's port, from its environment variable or the default."""
    return {name: int(os.environ.get(var, str(default))) for name, (var, default) in PORTS.items()}


@dataclass
class Sandbox:
    """The simulators' servers (made, not yet started) and the keys and TLS files they share with us."""

    servers: dict
    keys: sandbox_keys.SandboxKeys
    tls_files: tls.TlsFiles

    def url(self, name: str) -> str:
        """A simulator's base URL (no trailing slash)."""
        scheme = "https" if name == "wechatpay_tls" else "http"
        return f"{scheme}://127.0.0.1:{self.servers[name].server_port}"

    def serve(self) -> list[threading.Thread]:
        """Serve each in a daemon thread."""
        threads = [threading.Thread(target=s.serve_forever, name=f"sandbox-{n}", daemon=True)
                   for n, s in self.servers.items()]
        for thread in threads:
            thread.start()
        return threads

    def shutdown(self) -> None:
        """Stop every server (and the WeChat Pay notifier)."""
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        self.servers["wechatpay"].app.extensions["sandbox_wechatpay"].close()


def build(host: str, data_dir: str, ports: dict[str, int], clock=None, keys_dir: str | None = None) -> Sandbox:
    """Make (not start) a threaded server per simulator; a port of 0 (or missing) picks a free one."""
    os.makedirs(data_dir, exist_ok=True)
    keys = sandbox_keys.ensure(keys_dir or os.path.join(data_dir, "keys"))
    tls_files = tls.ensure_tls(keys)
    wechatpay = create_wechatpay(keys)
    apps = {"his": create_his(os.path.join(data_dir, "sandbox-his.sqlite3"), clock), "wechat": create_wechat(),
            "wechatpay": wechatpay, "alipay": create_alipay(keys), "healthcard": create_healthcard(),
            "sms": create_sms(keys)}  # real time: the BFF's SDK stamps its signatures with it
    servers = {name: make_server(host, ports.get(name, 0), app, threaded=True) for name, app in apps.items()}
    servers["wechatpay_tls"] = make_server(host, ports.get("wechatpay_tls", 0), wechatpay, threaded=True,
                                           ssl_context=tls.server_context(tls_files))
    return Sandbox(servers, keys, tls_files)


def main(argv: list[str] | None = None) -> None:
    """Run all simulators until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Yiqiao sandbox simulators")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default="var/sandbox")
    parser.add_argument("--keys-dir", default="var/keys")
    args = parser.parse_args(argv)
    sandbox = build(args.host, args.data_dir, ports_from_env(), keys_dir=args.keys_dir)
    sandbox.serve()
    for name in sandbox.servers:
        print(f"sandbox {name}: {sandbox.url(name)}/", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    sandbox.shutdown()


if __name__ == "__main__":
    main()
