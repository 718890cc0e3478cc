"""The WeChat API simulator answers as the real one does, and wechatpy understands it."""
import pytest

from sandbox.wechat.app import create_app


@pytest.fixture
def wx():
    return create_app("app-1", "secret-1").test_client()


def login(wx, code, appid="app-1", secret="secret-1"):
    return wx.get("/sns/jscode2session", query_string={
        "appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"}).json


def test_any_code_logs_in_as_sandbox_openid(wx):
    body = login(wx, "abc")
    assert body["openid"] == "sandbox-abc" and body["session_key"]


def test_invalid_and_expired_codes_fail_with_real_error_codes(wx):
    assert login(wx, "invalid")["errcode"] == 40029
    assert login(wx, "expired")["errcode"] == 40163


def test_wrong_app_credentials_are_refused(wx):
    assert login(wx, "abc", appid="other")["errcode"] == 40013
    assert login(wx, "abc", secret="wrong")["errcode"] == 40125


def test_faults_make_the_api_fail(wx):
    wx.post("/_control/faults", json={"down": True})
    response = wx.get("/cgi-bin/token", query_string={"appid": "app-1", "secret": "secret-1"})
    assert response.status_code == 503
    wx.post("/_control/reset")
    assert "access_token" in wx.get("/cgi-bin/token", query_string={
        "grant_type": "client_credential", "appid": "app-1", "secret": "secret-1"}).json
