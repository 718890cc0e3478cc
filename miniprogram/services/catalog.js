/** What can be booked: departments, doctors, schedules and time slots. */
const { request } = require('../utils/request');

/** Departments, two levels: [{code, name, children: [{code, name, intro}]}]. */
function listDepartments() {
  return request({ path: '/api/v1/departments' }).then((body) => body.items || []);
}

/** Doctors of a department. */
function listDoctors(department) {
  return request({ path: '/api/v1/doctors', query: { department } }).then((body) => body.items || []);
}

/**
 * Schedules of a department between two dates (inclusive, YYYY-MM-DD): {items, stale}.
 * `stale` is true when the hospital system was unreachable and the numbers are from earlier.
 */
function listSchedules({ department, doctor, dateFrom, dateTo }) {
  return request({
    path: '/api/v1/schedules',
    query: { department, doctor, date_from: dateFrom, date_to: dateTo },
  }).then((body) => ({ items: body.items || [], stale: Boolean(body.stale) }));
}

/** Time slots of one schedule. */
function listSlots(scheduleId) {
  return request({ path: `/api/v1/schedules/${encodeURIComponent(scheduleId)}/slots` })
    .then((body) => body.items || []);
}

module.exports = { listDepartments, listDoctors, listSchedules, listSlots };
