"""Every error code the BFF answers: its HTTP status and the Chinese message a patient or nurse sees.

One table, so a code always answers the same status, the message is written once, and the list in
`docs/ERRORS.md` is generated from here (`python -m bff.error_catalogue > docs/ERRORS.md`; a test keeps
it current). A call may give a more specific message for the moment (e.g. how many minutes are left)
but never another status.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    message: str
    area: str


_TABLE: dict[str, list[tuple[str, int, str]]] = {
    "通用": [
        ("BAD_REQUEST", 400, "请求格式有误"),
        ("VALIDATION_ERROR", 422, "填写的信息有误，请检查后重试"),
        ("UNAUTHORIZED", 401, "请先登录"),
        ("TOKEN_EXPIRED", 401, "登录已过期，请重新登录"),
        ("FORBIDDEN", 403, "没有权限执行此操作"),
        ("NOT_FOUND", 404, "请求的内容不存在"),
        ("METHOD_NOT_ALLOWED", 405, "不支持该请求方式"),
        ("CONFLICT", 409, "操作冲突，请刷新后重试"),
        ("PAYLOAD_TOO_LARGE", 413, "提交的内容过大"),
        ("UNSUPPORTED_MEDIA_TYPE", 415, "请求内容类型不受支持"),
        ("RATE_LIMITED", 429, "操作过于频繁，请稍后再试"),
        ("INTERNAL_ERROR", 500, "系统繁忙，请稍后再试"),
        ("HIS_UNAVAILABLE", 503, "医院系统暂时无法连接，请稍后再试"),
        ("HIS_REJECTED", 409, "医院系统拒绝了该操作"),
        ("FEATURE_UNAVAILABLE", 501, "本院暂未开通该项线上服务，请到医院窗口办理"),
        ("IDEMPOTENCY_KEY_REUSED", 409, "该请求编号已用于其他内容"),
        ("IDEMPOTENCY_IN_PROGRESS", 409, "相同的请求正在处理中，请稍候"),
    ],
    "登录": [
        ("WX_CODE_INVALID", 401, "微信登录凭证无效，请重新进入小程序"),
        ("WX_UNAVAILABLE", 503, "微信服务暂时无法连接，请稍后再试"),
    ],
    "就诊人": [
        ("PATIENT_NOT_FOUND", 404, "就诊人不存在"),
        ("PATIENT_EXISTS", 409, "该就诊人已添加"),
        ("PATIENT_LIMIT", 409, "就诊人数量已达上限"),
        ("PATIENT_HAS_APPOINTMENTS", 409, "该就诊人还有未完成的预约，请先取消预约"),
        ("PATIENT_INVALID", 409, "医院系统未能识别该就诊人，请核对信息"),
        # Linking a person the hospital already knows (trust issue): the name first, then an SMS code.
        ("PATIENT_IDENTITY_MISMATCH", 409, "姓名与医院登记的信息不一致，请核对后重试"),
        ("PATIENT_PHONE_MISSING", 409, "医院未登记该就诊人的手机号，无法验证身份，请到医院窗口办理"),
        ("VERIFICATION_NOT_FOUND", 404, "验证信息不存在，请重新添加就诊人"),
        ("VERIFICATION_CODE_INVALID", 422, "验证码不正确，请重新输入"),
        ("VERIFICATION_EXPIRED", 410, "验证码已过期，请重新获取"),
        ("SMS_UNAVAILABLE", 503, "短信暂时无法发送，请稍后再试"),
    ],
    "号源与预约": [
        ("SCHEDULE_NOT_FOUND", 404, "该排班不存在"),
        ("SLOT_NOT_FOUND", 404, "该时段不存在"),
        ("SLOT_FULL", 409, "该时段号源已约满，请选择其他时段"),
        ("SLOT_PASSED", 409, "该时段已过，请选择其他时段"),
        ("NOT_RELEASED", 403, "该号源尚未开放预约"),
        ("SCHEDULE_STOPPED", 409, "医生该时段已停诊"),
        ("DUPLICATE_BOOKING", 409, "该就诊人当天已预约过该科室，请勿重复预约"),
        ("BOOKING_IN_PROGRESS", 409, "上一次预约正在向医院确认，请稍后在“我的预约”中查看"),
        ("HOLD_EXPIRED", 409, "支付时间已过，号源已释放，请重新预约"),
        ("APPOINTMENT_NOT_FOUND", 404, "预约不存在"),
        ("NOT_CANCELLABLE", 409, "该预约当前状态不能取消"),
        ("CANCEL_TOO_LATE", 409, "已超过可取消时间，请到医院窗口办理"),
        ("CANCEL_REJECTED", 409, "医院系统不允许取消该预约"),
        ("CONFIRMING", 409, "支付成功，正在向医院确认挂号，请稍后再取消"),
        ("NOT_CHECKINABLE", 409, "该预约当前状态不能签到"),
        ("CHECKIN_NOT_TODAY", 409, "只能在就诊当天签到"),
        ("CHECKIN_TOO_EARLY", 409, "签到时间未到"),
        ("CHECKIN_CLOSED", 409, "已过签到时间，请到分诊台咨询"),
        ("CHECKIN_REJECTED", 409, "医院系统暂不允许签到"),
        ("NOT_CHECKED_IN", 409, "签到后才能查看排队情况"),
    ],
    "支付": [
        ("ORDER_TYPE_UNKNOWN", 422, "不支持的订单类型"),
        ("ORDER_NOT_PAYABLE", 409, "该订单当前无需支付"),
        ("ORDER_ALREADY_PAID", 409, "该订单已支付"),
        ("NOTHING_TO_PAY", 409, "该订单无需支付"),
        ("PAYER_REQUIRED", 422, "请提供支付宝用户标识"),
        ("PAYMENT_NOT_FOUND", 404, "支付记录不存在"),
        ("PAYMENT_IN_PROGRESS", 409, "该订单正在支付，请稍候"),
        ("PAYMENT_CHANNEL_UNAVAILABLE", 409, "本院暂未开通该支付方式，请选择其他方式或到窗口缴费"),
        ("PAYMENT_REJECTED", 502, "支付下单失败，请稍后再试"),
        ("PAYMENT_UNAVAILABLE", 503, "支付服务暂时无法连接，请稍后再试"),
        ("PAYMENT_UNKNOWN", 503, "支付结果确认中，请稍候查询，切勿重复支付"),
        ("PAYMENT_DECLINED", 402, "支付未成功，请更换支付方式或到窗口缴费"),
        ("INSUFFICIENT_FUNDS", 402, "余额不足，请更换支付方式或到窗口缴费"),
        ("AUTH_CODE_INVALID", 402, "刷脸凭证已失效，请重新刷脸"),
        ("FACEPAY_UNAVAILABLE", 503, "刷脸支付暂时无法使用，请稍后再试或到窗口缴费"),
        ("KIOSK_UNAUTHORIZED", 401, "自助设备未通过认证"),
        ("REFUND_NOT_FOUND", 404, "退款记录不存在"),
        ("REFUND_NOT_FAILED", 409, "该退款不是待人工处理的失败退款"),
    ],
    "门诊缴费": [
        ("SETTLEMENT_NOT_FOUND", 404, "缴费单不存在"),
        ("SETTLEMENT_EXPIRED", 409, "缴费单已过期，请重新选择费用"),
        ("BILL_NOT_PENDING", 409, "所选费用已缴纳或已变更，请刷新后重新选择"),
        ("SETTLEMENT_NOT_REFUNDABLE", 409, "该缴费单当前不能退费"),
        ("BILL_REFUND_REFUSED", 409, "医院系统未能退费（如已发药或检查已执行），请到窗口办理"),
    ],
    "健康卡": [
        ("HEALTH_CARD_NOT_FOUND", 404, "健康卡不存在"),
        ("HEALTH_CARD_UNAVAILABLE", 503, "健康卡平台暂时无法连接，请稍后再试"),
        ("HEALTH_CARD_CONFLICT", 409, "该就诊人已绑定其他健康卡，请到医院窗口办理"),
        ("HEALTH_CARD_REJECTED", 409, "健康卡平台未能办理，请稍后再试或到医院窗口办理"),
        ("ID_NUMBER_INVALID", 422, "健康卡平台未通过该身份证号，请核对就诊人信息"),
        ("QR_EXPIRED", 410, "二维码已过期，请患者刷新健康卡后重新出示"),
        ("QR_INVALID", 422, "无法识别该二维码，请患者出示本院电子健康卡"),
    ],
    "工作人员": [
        ("STAFF_UNAUTHORIZED", 401, "请先以工作人员身份登录"),
        ("STAFF_TOKEN_EXPIRED", 401, "登录已过期，请重新登录"),
        ("STAFF_LOGIN_FAILED", 401, "用户名或密码错误"),
        ("STAFF_LOCKED", 429, "密码错误次数过多，请稍后再试"),
        ("STAFF_ACCOUNT_NOT_FOUND", 404, "没有该工作人员账号"),
        ("STAFF_PASSWORD_CHANGE_REQUIRED", 403, "首次登录或密码被重置，请先修改密码"),
        ("NOT_YOUR_WARD", 403, "该患者不在您负责的病区或科室"),
    ],
    "床旁执行": [
        ("PATIENT_CODE_INVALID", 422, "无法识别患者腕带或健康卡，请重新扫描患者"),
        ("LABEL_INVALID", 422, "无法识别该条码，请扫描执行单或瓶贴上的条码"),
        ("WRONG_PATIENT", 409, "患者与执行单不符！请停止操作，重新核对患者身份"),
        ("ORDER_STOPPED", 409, "该医嘱已停止，请勿执行"),
        ("ALREADY_EXECUTED", 409, "该执行单已执行，请勿重复执行"),
        ("OUTSIDE_WINDOW", 409, "不在规定的执行时间内，如确需执行请填写原因"),
        ("SECOND_CHECK_REQUIRED", 428, "高危药品须由另一名护士或医生双人核对"),
        ("SKIN_TEST_REQUIRED", 409, "该药品须皮试阴性后方可执行"),
        ("ACTION_NOT_ALLOWED", 409, "该执行单当前不能进行此操作"),
        ("SCANNED_AT_INVALID", 422, "扫描时间无效：不能晚于现在，也不能早于24小时前"),
        ("EXECUTION_NOT_FOUND", 404, "执行记录不存在"),
        ("ORDER_NOT_FOUND", 404, "医嘱不存在"),
    ],
}

CATALOGUE: dict[str, ErrorSpec] = {
    code: ErrorSpec(status, message, area) for area, rows in _TABLE.items() for code, status, message in rows
}


def spec(code: str) -> ErrorSpec:
    """The status and default message of a code; KeyError for a code nobody catalogued."""
    return CATALOGUE[code]


def markdown() -> str:
    """The catalogue as the Markdown table of docs/ERRORS.md."""
    lines = ["# Error codes", "",
             "Generated from `bff/error_catalogue.py` by `python -m bff.error_catalogue`; do not edit by hand.",
             "Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}` with the status below;",
             "the message shown is the default (an answer may say more precisely what happened).", ""]
    for area, rows in _TABLE.items():
        lines += [f"## {area}", "", "| code | status | message |", "|---|---|---|"]
        lines += [f"| `{code}` | {status} | {message} |" for code, status, message in rows]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
