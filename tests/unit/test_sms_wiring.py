"""How the BFF gets its SMS sender: built from the settings, or the one a test passes in."""
from __future__ import annotations

import pytest

from bff import bootstrap, config
from bff.sms.tencent import TencentSms
from tests.conftest import TEST_CONFIG
from tests.fakes import FakeSms


def _app(tmp_path, **services):
    from bff.app import create_app

    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/sms.sqlite3"}, **services)


def test_the_app_holds_the_sms_sender_it_is_given(tmp_path):
    fake = FakeSms()
    assert _app(tmp_path, sms=fake).extensions["sms"] is fake


def test_by_default_the_app_sends_through_tencent_cloud_as_configured(tmp_path):
    sms = _app(tmp_path, sms=None).extensions["sms"]
    assert isinstance(sms, TencentSms)
    assert (sms.protocol, sms.host, sms.region) == ("http", "127.0.0.1:8107", "ap-guangzhou")


def test_the_production_endpoint_is_https():
    loaded = config.load({"SMS_ENDPOINT": "sms.tencentcloudapi.com", "SMS_TIMEOUT_SECONDS": "3"})
    sms = bootstrap.build_sms(loaded)
    assert (sms.protocol, sms.host, sms.timeout) == ("https", "sms.tencentcloudapi.com", 3.0)


def test_an_unknown_sms_adapter_is_refused_at_start():
    with pytest.raises(RuntimeError, match="SMS_ADAPTER"):
        bootstrap.build_sms(config.load({"SMS_ADAPTER": "aliyun"}))
