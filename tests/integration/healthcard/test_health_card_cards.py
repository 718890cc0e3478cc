"""The health card client against the simulator: registration, look-ups, dynamic codes, bindings."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from health_card import (
    BindingConflict,
    CardChannel,
    CardHolder,
    CardNotFound,
    HealthCard,
    HealthCodeInvalid,
    IdNumberInvalid,
    QRCodeExpired,
    QRCodeInvalid,
    QRCodeOtherHospital,
    RequestInvalid,
    Scene,
)
from tests.fakes import resident_id


def _verify(client, text: str) -> HealthCard:
    return client.verify_qr_code(text, Scene.SAME_DAY_REGISTRATION, CardChannel.COUNTER, terminal_id="counter-3")


def test_registering_the_same_id_twice_answers_the_same_card(platform, client, enrol):
    first, id_number = enrol(10)
    again = client.register_health_card(CardHolder(name="张三", id_number=id_number, phone="13800000000"))
    elsewhere = platform.client("b").register_health_card(
        CardHolder(name="张三", id_number=id_number, phone="13912345678"))
    assert again == first and elsewhere == first
    assert platform.stats()["cards"] == 1
    assert len(first.health_card_id) == 64 and first.qr_code_text and first.phid


@pytest.mark.parametrize("id_number", [
    resident_id(11)[:-1] + ("0" if resident_id(11)[-1] != "0" else "1"),  # check digit wrong
    "11010119990230" + "001" + "X",  # 30 February
    "1101011990030700",  # too short
])
def test_an_invalid_id_number_is_refused(client, id_number):
    with pytest.raises(IdNumberInvalid) as caught:
        client.register_health_card(CardHolder(name="李四", id_number=id_number, phone="13912345678"))
    assert caught.value.code == "ID_NUMBER_INVALID"


def test_impossible_dates_with_a_right_check_digit_are_refused(client):
    for birthday in ("19990230", (dt.date.today() + dt.timedelta(days=30)).strftime("%Y%m%d")):
        with pytest.raises(IdNumberInvalid, match="出生日期"):
            client.register_health_card(CardHolder(name="王五", id_number=resident_id(12, birthday),
                                                   phone="13912345678"))


def test_an_id_registered_under_another_name_is_refused(client, enrol):
    _, id_number = enrol(13)
    with pytest.raises(IdNumberInvalid):
        client.register_health_card(CardHolder(name="赵六", id_number=id_number, phone="13912345678"))


def test_look_ups_by_static_code_and_by_health_code(platform, client, enrol):
    card, id_number = enrol(14, name="钱七", birthday="19851124")
    by_qr = client.get_health_card_by_qr_code(card.qr_code_text)
    code = platform.post("health-codes", {"health_card_id": card.health_card_id}, expect=201)["health_code"]
    by_health_code = client.get_health_card_by_health_code(code)

    assert by_qr == by_health_code
    assert (by_qr.health_card_id, by_qr.name, by_qr.id_number) == (card.health_card_id, "钱七", id_number)
    assert by_qr.birthday == dt.date(1985, 11, 24) and by_qr.phone == "13912345678"
    assert by_qr.gender == "女"  # 17th digit of ...014x is even: derived by the client, checked by the platform
    with pytest.raises(HealthCodeInvalid):
        client.get_health_card_by_health_code(code)  # single use
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_qr.name = "someone else"
    assert id_number not in repr(by_qr) and "13912345678" not in repr(by_qr)


def test_a_dynamic_code_needs_the_holders_id(client, enrol):
    card, _ = enrol(15)
    with pytest.raises(CardNotFound):
        client.get_dynamic_qr_code(card.health_card_id, resident_id(16))


def test_a_dynamic_code_verifies_to_its_holder_until_it_expires(platform, client, enrol):
    card, id_number = enrol(17, name="孙八", birthday="20010612")
    code = client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert code.expires_at - code.issued_at == dt.timedelta(seconds=60)
    assert code.qr_code_text != card.qr_code_text

    holder = _verify(client, code.qr_code_text)
    assert (holder.health_card_id, holder.name, holder.id_number) == (card.health_card_id, "孙八", id_number)
    platform.clock.advance(seconds=58)
    assert _verify(client, code.qr_code_text).health_card_id == card.health_card_id
    platform.clock.advance(seconds=3)
    with pytest.raises(QRCodeExpired):
        _verify(client, code.qr_code_text)
    with pytest.raises(QRCodeExpired):
        client.get_health_card_by_qr_code(code.qr_code_text)


def test_a_code_expired_through_control_is_refused(platform, client, enrol):
    card, id_number = enrol(18)
    code = client.get_dynamic_qr_code(card.health_card_id, id_number)
    fresh = client.get_dynamic_qr_code(card.health_card_id, id_number)
    platform.post("expire", {"qr_code_text": code.qr_code_text})
    with pytest.raises(QRCodeExpired) as caught:
        _verify(client, code.qr_code_text)
    assert caught.value.code == "QR_EXPIRED"
    assert _verify(client, fresh.qr_code_text).health_card_id == card.health_card_id
    platform.post("expire", {"qr_code_text": card.qr_code_text}, expect=404)  # the static code cannot expire


def _altered(text: str) -> list[str]:
    code_id, kind, mac = text.split(":")
    flip = {"0": "1", "1": "0"}
    return [f"{code_id[:-1]}{'A' if code_id[-1] != 'A' else 'B'}:{kind}:{mac}", f"{code_id}:{flip[kind]}:{mac}",
            f"{code_id}:{kind}:{mac[:-1]}{'0' if mac[-1] != '0' else '1'}", text + "0", "not a code"]


def test_altered_codes_are_invalid_not_expired(client, enrol):
    card, id_number = enrol(19)
    code = client.get_dynamic_qr_code(card.health_card_id, id_number)
    for text in _altered(code.qr_code_text) + _altered(card.qr_code_text):
        with pytest.raises(QRCodeInvalid) as caught:
            _verify(client, text)
        assert caught.value.code == "QR_INVALID", text


def test_another_hospitals_dynamic_code_is_refused(platform, client, enrol):
    card, id_number = enrol(20)
    theirs = platform.client("b").get_dynamic_qr_code(card.health_card_id, id_number)
    with pytest.raises(QRCodeOtherHospital) as caught:
        _verify(client, theirs.qr_code_text)
    assert caught.value.code == "QR_OTHER_HOSPITAL"
    assert _verify(platform.client("b"), theirs.qr_code_text).health_card_id == card.health_card_id
    # the card's static code is regional: every hospital may read it
    assert _verify(platform.client("b"), card.qr_code_text).health_card_id == card.health_card_id


def test_expired_tampered_and_foreign_codes_have_distinct_errors(platform, client, enrol):
    card, id_number = enrol(21)
    expired = client.get_dynamic_qr_code(card.health_card_id, id_number).qr_code_text
    platform.post("expire", {"qr_code_text": expired})
    foreign = platform.client("b").get_dynamic_qr_code(card.health_card_id, id_number).qr_code_text
    seen = set()
    for text in (expired, _altered(expired)[0], foreign):
        try:
            _verify(client, text)
        except (QRCodeExpired, QRCodeInvalid) as exc:
            seen.add((type(exc).__name__, exc.code, exc.platform_code))
    assert seen == {("QRCodeExpired", "QR_EXPIRED", "20003"), ("QRCodeInvalid", "QR_INVALID", "20004"),
                    ("QRCodeOtherHospital", "QR_OTHER_HOSPITAL", "20005")}


def test_bindings_are_recorded_once_and_never_move(platform, client, enrol):
    card, id_number = enrol(22)
    other, _ = enrol(23)
    code = client.get_dynamic_qr_code(card.health_card_id, id_number)
    client.bind_card_relation("HIS-0001", code.qr_code_text)
    client.bind_card_relation("HIS-0001", card.qr_code_text)  # again, with the static code: no change
    with pytest.raises(BindingConflict):
        client.bind_card_relation("HIS-0001", other.qr_code_text)
    platform.client("b").bind_card_relation("B-77", card.qr_code_text)

    bindings = sorted(platform.bindings(), key=lambda b: b["hospital_id"])
    assert [(b["hospital_id"], b["patid"], b["health_card_id"]) for b in bindings] == [
        ("10001", "HIS-0001", card.health_card_id), ("10002", "B-77", card.health_card_id)]


def test_registration_with_a_his_patient_id_binds_it(platform, client):
    card = client.register_health_card(CardHolder(name="周九", id_number=resident_id(25), phone="13912345678",
                                                  his_patient_id="HIS-0025", gender="男"))
    assert [(b["patid"], b["health_card_id"]) for b in platform.bindings()] == [("HIS-0025", card.health_card_id)]


def test_details_contradicting_the_id_number_are_refused(client):
    id_number = resident_id(26)  # ...026x: a woman born 1990-03-07
    for wrong in ({"gender": "男"}, {"birthday": dt.date(1990, 3, 8)}):
        with pytest.raises(RequestInvalid):
            client.register_health_card(CardHolder(name="吴十", id_number=id_number, phone="13912345678", **wrong))
    with pytest.raises(RequestInvalid, match="手机"):
        client.register_health_card(CardHolder(name="吴十", id_number=id_number, phone="12345"))
