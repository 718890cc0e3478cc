"""Health card schemas."""
from marshmallow import Schema, fields, validate

from bff.ids import MAX_ID


class CardIn(Schema):
    patient_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID, error="就诊人编号无效"))
    wechat_code = fields.String(load_default="", validate=validate.Length(max=256), metadata={
        "description": "微信身份码 from the health card plug-in, when the patient authorised it"})


class CardPatientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    id_number_masked = fields.String()
    phone_masked = fields.String()


class CardOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    health_card_id = fields.String()
    qr_code_text = fields.String(metadata={"description": "the card's static code"})
    status = fields.String()
    created_at = fields.DateTime()
    patient = fields.Nested(CardPatientOut)


class CardList(Schema):
    items = fields.List(fields.Nested(CardOut))


class QrCodeOut(Schema):
    qr_code_text = fields.String()
    expires_at = fields.DateTime()
    png = fields.String(metadata={"description": "the code as a PNG image, base64"})
