/** 电子健康卡 (electronic health cards) of the user's patients and their dynamic QR codes. */
const { request, headerOf } = require('../utils/request');

/** The user's cards: [{id, patient_id, health_card_id, qr_code_text, status, patient}]. */
function listHealthCards() {
  return request({ path: '/api/v1/health-cards' }).then((body) => body.items || []);
}

/** Applies for a patient's card (or answers the card the patient already has). */
function applyHealthCard(patientId, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/health-cards',
    data: { patient_id: patientId },
    idempotencyKey,
  });
}

/**
 * A fresh dynamic QR code: {qr_code_text, expires_at, png, serverDate}. serverDate is the
 * server's clock when it answered (its Date header), so a wrong phone clock cannot stretch a code.
 */
function getHealthCardQrCode(cardId) {
  return request({ path: `/api/v1/health-cards/${encodeURIComponent(cardId)}/qrcode`, withHeaders: true })
    .then(({ body, headers }) => Object.assign({}, body, { serverDate: headerOf(headers, 'Date') || null }));
}

module.exports = { listHealthCards, applyHealthCard, getHealthCardQrCode };
