"""Login schemas."""
from marshmallow import Schema, fields, validate


class WxLoginIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class UserOut(Schema):
    id = fields.Integer()


class TokenOut(Schema):
    token = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserOut)
