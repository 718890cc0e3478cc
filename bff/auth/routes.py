"""`POST /api/v1/auth/wx-login`."""
from flask_smorest import Blueprint

from bff.auth import schemas, service

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录")


@blp.route("/wx-login", methods=["POST"])
@blp.arguments(schemas.WxLoginIn)
@blp.response(200, schemas.TokenOut)
def wx_login(body):
    """Exchange a `wx.login` code for a bearer token."""
    return service.wx_login(body["code"])
