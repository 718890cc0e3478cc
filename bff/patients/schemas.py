"""就诊人 schemas: input validated here, output masked here."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from bff.patients.identity import InvalidIdNumber, is_mobile, parse_resident_id

RELATIONS = ("self", "spouse", "child", "parent", "other")


class PatientIn(Schema):
    name = fields.String(required=True, validate=validate.Regexp(
        r"^[\u4e00-\u9fa5·A-Za-z ]{2,30}$", error="姓名应为2到30个汉字或字母"))
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
