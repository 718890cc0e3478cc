"""Sandbox of the WeChat server API the BFF uses: access token and mini-program code2Session."""
