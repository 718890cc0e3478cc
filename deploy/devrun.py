"""`make run`: the sandbox simulators and the BFF on loopback, until Ctrl-C.

Starts `python -m sandbox` and gunicorn (deploy/gunicorn.conf.py), waits until both answer,
prints the addresses and how to open the mini-program, and stops both together.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable


def wait_for(url: str, seconds: float = 30.0) -> bool:
    """Poll a URL until it answers 2xx/3xx."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 -- our own loopback URLs
                return True
        except OSError:
            time.sleep(0.3)
    return False


def main() -> int:
    """Run until interrupted; exit non-zero if a part fails to start."""
    env = dict(os.environ)
    his_port = env.setdefault("SANDBOX_HIS_PORT", "8101")
    wx_port = env.setdefault("SANDBOX_WECHAT_PORT", "8102")
    env.setdefault("HIS_WSDL_URL", f"http://127.0.0.1:{his_port}/his/ws?wsdl")
    env.setdefault("WX_API_BASE", f"http://127.0.0.1:{wx_port}/")
    bind = env.setdefault("BFF_BIND", "127.0.0.1:8000")
    children = [
        subprocess.Popen([PYTHON, "-m", "sandbox", "--data-dir", "var/sandbox"], cwd=ROOT, env=env),
        subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "bff.wsgi:app"],
                         cwd=ROOT, env=env),
    ]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        ok = wait_for(f"http://127.0.0.1:{his_port}/his/ws?wsdl") and wait_for(f"http://{bind}/healthz")
        if not ok:
            print("make run: a part did not start; see the log above", file=sys.stderr)
            return 1
        print(BANNER.format(bind=bind, his=his_port, wx=wx_port, root=ROOT,
                            mode=env.get("PAYMENT_MODE", "at_hospital")), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)


BANNER = """
Yiqiao is running on loopback (PAYMENT_MODE={mode}):
  BFF             http://{bind}/        API docs http://{bind}/api/docs
                  OpenAPI  http://{bind}/api/v1/openapi.json   ready? http://{bind}/readyz
  sandbox HIS     http://127.0.0.1:{his}/his/ws?wsdl   control: /_control/stats, /_control/faults
  sandbox WeChat  http://127.0.0.1:{wx}/
Mini-program: open {root}/miniprogram in WeChat DevTools (import project, AppID: test account),
  then Tools → Build npm; in Details → Local settings tick "Do not verify valid domain names"
  so it may call http://{bind}. Press Ctrl-C to stop.
"""

if __name__ == "__main__":
    sys.exit(main())
