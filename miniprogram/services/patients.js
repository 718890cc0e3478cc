/** 就诊人 (patients) of the signed-in user. */
const { request } = require('../utils/request');

/** The user's patients. */
function listPatients() {
  return request({ path: '/api/v1/patients' }).then((body) => body.items || []);
}

/**
 * Adds a patient: {name, id_type, id_number, phone, relation}. Resolves with the patient (201),
 * or with {verification_id, phone_masked} (202) when the hospital already knows the person and
 * an SMS code went to the phone it holds: then call verifyPatient.
 */
function addPatient(patient, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/patients',
    data: Object.assign({ id_type: '01' }, patient),
    idempotencyKey,
  });
}

/** Proves the phone on file with the 6-digit code: resolves with the linked patient. */
function verifyPatient(verificationId, code, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/patients/verify',
    data: { verification_id: verificationId, code },
    idempotencyKey,
  });
}

/** Sends a new code to the same phone (no sooner than 60 s after the last). */
function resendCode(verificationId) {
  return request({
    method: 'POST',
    path: '/api/v1/patients/verify/resend',
    data: { verification_id: verificationId },
  });
}

/** Removes a patient. */
function deletePatient(id) {
  return request({ method: 'DELETE', path: `/api/v1/patients/${encodeURIComponent(id)}` });
}

module.exports = { listPatients, addPatient, verifyPatient, resendCode, deletePatient };
