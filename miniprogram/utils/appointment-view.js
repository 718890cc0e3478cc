/** What an appointment from the API shows on screen (result, list and detail pages). */
const fmt = require('./format');
const { statusLabel } = require('./labels');

const UPCOMING = ['awaiting_payment', 'confirmed'];

function textOrEmpty(value) {
  return value === undefined || value === null ? '' : String(value);
}

function whenText(schedule, slot) {
  return {
    dateText: schedule.date ? `${fmt.formatDateLong(schedule.date)} ${fmt.periodLabel(schedule.period)}` : '',
    timeText: slot.start ? `${fmt.formatTime(slot.start)}-${fmt.formatTime(slot.end)}` : '',
  };
}

function holdText(appt) {
  return appt.status === 'awaiting_payment' && appt.hold_expires_at
    ? `请在 ${fmt.formatDateTime(appt.hold_expires_at)} 前完成缴费，逾期号源将自动释放` : '';
}

/** Display fields of an appointment; tolerant of fields the BFF leaves out. */
function describeAppointment(appt) {
  const patient = appt.patient || {};
  const schedule = appt.schedule || {};
  const slot = appt.slot || {};
  return Object.assign(whenText(schedule, slot), {
    id: appt.id,
    status: appt.status,
    statusText: statusLabel(appt.status),
    patientName: patient.name || '',
    departmentName: schedule.department_name || schedule.department_code || '',
    doctorName: schedule.doctor_name || '',
    doctorTitle: schedule.title || '',
    feeText: fmt.formatFen(appt.fee !== undefined ? appt.fee : schedule.fee),
    visitNo: textOrEmpty(appt.visit_no),
    queueNo: textOrEmpty(appt.queue_no),
    holdText: holdText(appt),
    canCancel: UPCOMING.includes(appt.status),
    canCheckIn: appt.status === 'confirmed',
    showQueue: appt.status === 'checked_in',
  });
}

module.exports = { describeAppointment };
