"""Kiosk keys are made by `flask kiosk add` only: long, random, and never a weak one."""
from __future__ import annotations

import secrets

from bff.kiosk.auth import KIOSK_KEY_RULE
from bff.secret_strength import weaknesses


def _add(app, kiosk_id: str):
    return app.test_cli_runner().invoke(args=["kiosk", "add", "--id", kiosk_id, "--name", "门诊一楼大厅"])


def test_each_provisioned_key_is_long_random_and_new(make_app):
    app = make_app()
    keys = {_add(app, "MZ-1F-01").output.rsplit(" ", 1)[1].strip() for _ in range(3)}
    keys.add(_add(app, "MZ-1F-02").output.rsplit(" ", 1)[1].strip())
    assert len(keys) == 4  # re-keying gives a new key, and no two devices share one
    for key in keys:
        assert len(key) >= 43 and not weaknesses(key, KIOSK_KEY_RULE)


def test_a_weakened_key_generator_provisions_nothing(make_app, monkeypatch):
    app = make_app()
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: "abcabcabcabcabcabcabcabcabcabcabcabcabcabca")
    result = _add(app, "MZ-1F-03")
    assert result.exit_code != 0
    with app.app_context():
        from bff.extensions import db
        from bff.kiosk.models import KioskDevice

        assert db.session.get(KioskDevice, "MZ-1F-03") is None
