/** What an appointment from the API shows on screen (result, list and detail pages). */
const fmt = require('./format');
const { statusLabel } = require('./labels');
const { describePayment } = require('./payment-view');

const UPCOMING = ['awaiting_payment', 'confirmed'];
const TAG_THEMES = { awaiting_payment: 'warning', paid: 'primary', confirmed: 'primary', checked_in: 'success' };

function textOrEmpty(value) {
  return value === undefined || value === null ? '' : String(value);
}

function whenText(schedule, slot) {
  return {
    dateText: schedule.date ? `${fmt.formatDateLong(schedule.date)} ${fmt.periodLabel(schedule.period)}` : '',
    timeText: slot.start ? `${fmt.formatTime(slot.start)}-${fmt.formatTime(slot.end)}` : '',
  };
}

/** The hold's end in ms since the epoch (0 when none), and as "09:40". */
function holdFields(appt) {
  const awaiting = appt.status === 'awaiting_payment' && appt.hold_expires_at;
  const at = awaiting ? Date.parse(appt.hold_expires_at) : NaN;
  return {
    holdExpiresAt: Number.isNaN(at) ? 0 : at,
    holdUntilText: awaiting ? fmt.formatTime(appt.hold_expires_at) : '',
  };
}

/** True once the fee has reached the hospital's account (whatever happened after). */
function feePaid(appt) {
  return !!(appt.payment && ['paid', 'refunding', 'refunded'].includes(appt.payment.status));
}

/** Display fields of an appointment; tolerant of fields the BFF leaves out. */
function describeAppointment(appt) {
  const patient = appt.patient || {};
  const schedule = appt.schedule || {};
  const slot = appt.slot || {};
  return Object.assign(whenText(schedule, slot), holdFields(appt), {
    id: appt.id,
    status: appt.status,
    statusText: statusLabel(appt.status),
    tagTheme: TAG_THEMES[appt.status] || 'default',
    patientName: patient.name || '',
    departmentName: schedule.department_name || schedule.department_code || '',
    doctorName: schedule.doctor_name || '',
    doctorTitle: schedule.title || '',
    feeText: fmt.formatFen(appt.fee !== undefined ? appt.fee : schedule.fee),
    visitNo: textOrEmpty(appt.visit_no),
    queueNo: textOrEmpty(appt.queue_no),
    payment: describePayment(appt.payment),
    feePaid: feePaid(appt),
    canPay: appt.status === 'awaiting_payment',
    canCancel: UPCOMING.includes(appt.status),
    canCheckIn: appt.status === 'confirmed',
    showQueue: appt.status === 'checked_in',
  });
}

module.exports = { describeAppointment };
