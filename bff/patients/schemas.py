"""就诊人 schemas: input validated here, output masked here."""
import re
import unicodedata

from marshmallow import Schema, ValidationError, fields, validate, validates

from bff.patients.identity import InvalidIdNumber, is_mobile, parse_resident_id, tidy_name

RELATIONS = ("self", "spouse", "child", "parent", "other")
# Anchored with fullmatch: `$` would also match before a trailing newline.
_NAME = re.compile(r"[\u4e00-\u9fa5·A-Za-z ]{2,30}")
_CODE = re.compile(r"\d{6}")


class Name(fields.String):
    """A person's name, tidied (full-width → half-width, one middle dot, single spaces) then checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        text = tidy_name(raw)
        # Control characters (a trailing newline…) are refused, not tidied away.
        if any(unicodedata.category(ch) == "Cc" for ch in raw) or not _NAME.fullmatch(text):
            raise ValidationError("姓名应为2到30个汉字或字母")
        return text


class PatientIn(Schema):
    name = Name(required=True)
    id_type = fields.String(load_default="01", validate=validate.OneOf(["01"], error="目前只支持居民身份证"))
    id_number = fields.String(required=True)
    phone = fields.String(required=True)
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS, error="与本人关系无效"))
    is_default = fields.Boolean(load_default=False)

    @validates("id_number")
    def _check_id_number(self, value, data_key):
        try:
            parse_resident_id(value)
        except InvalidIdNumber as error:
            raise ValidationError(str(error)) from None

    @validates("phone")
    def _check_phone(self, value, data_key):
        if not is_mobile(value):
            raise ValidationError("请输入11位手机号码")


class PatientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    id_type = fields.String()
    id_number_masked = fields.String()
    phone_masked = fields.String()
    gender = fields.String()
    birthday = fields.Date()
    his_patient_id = fields.String()
    is_default = fields.Boolean()


class PatientList(Schema):
    items = fields.List(fields.Nested(PatientOut))


class VerificationStarted(Schema):
    """202: the person is known to the hospital; a code went to the phone the HIS holds."""

    verification_id = fields.String(required=True)
    phone_masked = fields.String(required=True, metadata={"example": "138****0000"})


class VerifyIn(Schema):
    verification_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(required=True)

    @validates("code")
    def _check_code(self, value, data_key):
        if not _CODE.fullmatch(value):
            raise ValidationError("请输入6位数字验证码")


class ResendIn(Schema):
    verification_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
