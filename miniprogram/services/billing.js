/** Outpatient fees (门诊缴费): pending bills from the HIS and settlement orders that pay them together. */
const { request } = require('../utils/request');

/** The patient's pending bills: [{id, title, department, doctor_name, amount, created_at, items}]. */
function listBills(patientId) {
  return request({ path: '/api/v1/bills', query: { patient_id: patientId } }).then((body) => body.items || []);
}

/** An order to pay the chosen bills together; the same key makes a retry answer the first order. */
function createSettlement({ patientId, billIds }, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/bills/settlements',
    data: { patient_id: patientId, bill_ids: billIds },
    idempotencyKey,
  });
}

/** A settlement order: pending → paid → settled (receipt_no), or cancelled/refunded (failure_reason). */
function getSettlement(id) {
  return request({ path: `/api/v1/bills/settlements/${encodeURIComponent(id)}` });
}

module.exports = { listBills, createSettlement, getSettlement };
