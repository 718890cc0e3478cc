/** Appointments: book, list, cancel, check in, queue. */
const { request } = require('../utils/request');

/** Books a slot; the same idempotencyKey makes a retry return the first booking. */
function bookAppointment({ patientId, scheduleId, slotId }, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/appointments',
    data: { patient_id: patientId, schedule_id: scheduleId, slot_id: slotId },
    idempotencyKey,
  });
}

/** The user's appointments, newest first; status filters when given. */
function listAppointments(status) {
  return request({ path: '/api/v1/appointments', query: { status } }).then((body) => body.items || []);
}

/** One appointment. */
function getAppointment(id) {
  return request({ path: `/api/v1/appointments/${encodeURIComponent(id)}` });
}

/** Cancels an appointment. */
function cancelAppointment(id) {
  return request({ method: 'POST', path: `/api/v1/appointments/${encodeURIComponent(id)}/cancel`, data: {} });
}

/** Checks in on the day of the visit. */
function checkIn(id) {
  return request({ method: 'POST', path: `/api/v1/appointments/${encodeURIComponent(id)}/check-in`, data: {} });
}

/** Queue position: {queue_no, current_no, ahead, estimated_wait_minutes}. */
function getQueue(id) {
  return request({ path: `/api/v1/appointments/${encodeURIComponent(id)}/queue` });
}

module.exports = { bookAppointment, listAppointments, getAppointment, cancelAppointment, checkIn, getQueue };
