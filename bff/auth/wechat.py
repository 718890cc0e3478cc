"""Mini-program login through wechatpy's `code_to_session`, pointed at a configurable API base."""
from __future__ import annotations

from dataclasses import dataclass

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

# code2Session answers these when the js_code itself is bad (not our fault, not WeChat's).
_BAD_CODE = {40029, 40163, 40226, 45011}


class WxCodeInvalid(Exception):
    """WeChat refused the login code."""


class WxUnavailable(Exception):
    """WeChat could not be reached or refused our credentials."""


@dataclass(frozen=True)
class WxSession:
    openid: str
    unionid: str | None


class _Client(WeChatClient):
    """wechatpy's client with every URL, the hidden access-token fetch included, on our base."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float):
        super().__init__(appid, secret, timeout=timeout)
        self._api_base = api_base if api_base.endswith("/") else api_base + "/"
        self.API_BASE_URL = self._api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = self._api_base

    def fetch_access_token(self):
        """Fetch the access token from the configured base, not the hard-coded host."""
        return self._fetch_access_token(
            url=self._api_base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})


class WxLogin:
    """Turns a `wx.login` code into the user's openid."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float = 5.0):
        self._client = _Client(appid, secret, api_base, timeout)

    def code_to_session(self, js_code: str) -> WxSession:
        """Exchange the code; WxCodeInvalid for a bad code, WxUnavailable otherwise."""
        try:
            result = self._client.wxa.code_to_session(js_code)
        except WeChatClientException as error:
            if error.errcode in _BAD_CODE:
                raise WxCodeInvalid(str(error.errcode)) from error
            raise WxUnavailable(f"wechat error {error.errcode}") from error
        except (requests.RequestException, ValueError) as error:
            raise WxUnavailable(type(error).__name__) from error
        if not result.get("openid"):
            raise WxUnavailable("no openid in reply")
        return WxSession(openid=result["openid"], unionid=result.get("unionid"))
