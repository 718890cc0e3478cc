/** 就诊人 (patients) of the signed-in user. */
const { request } = require('../utils/request');

/** The user's patients. */
function listPatients() {
  return request({ path: '/api/v1/patients' }).then((body) => body.items || []);
}

/** Adds a patient: {name, id_type, id_number, phone, relation}. */
function addPatient(patient, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/patients',
    data: Object.assign({ id_type: '01' }, patient),
    idempotencyKey,
  });
}

/** Removes a patient. */
function deletePatient(id) {
  return request({ method: 'DELETE', path: `/api/v1/patients/${encodeURIComponent(id)}` });
}

module.exports = { listPatients, addPatient, deletePatient };
