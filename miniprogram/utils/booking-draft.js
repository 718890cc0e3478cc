/**
 * The booking being put together across pages (department → schedule → slot → confirm),
 * kept in storage so a page reload does not lose it; and the last booking made.
 */
const fmt = require('./format');

const DRAFT_KEY = 'bookingDraft';
const LAST_BOOKING_KEY = 'lastBooking';

/** The current draft ({} when none). */
function getDraft() {
  const draft = wx.getStorageSync(DRAFT_KEY);
  return draft && typeof draft === 'object' ? draft : {};
}

/** Merges fields into the draft and answers the result. */
function updateDraft(fields) {
  const draft = Object.assign({}, getDraft(), fields);
  wx.setStorageSync(DRAFT_KEY, draft);
  return draft;
}

/** Keeps the appointment just booked so the result page shows it even offline. */
function rememberBooking(appointment) {
  wx.setStorageSync(LAST_BOOKING_KEY, appointment);
}

/** The appointment just booked, when its id matches. */
function lastBooking(id) {
  const appt = wx.getStorageSync(LAST_BOOKING_KEY);
  return appt && String(appt.id) === String(id) ? appt : null;
}

/** What the booking pages show of the draft: department, doctor, date, time (once chosen), fee. */
function summaryOf(draft) {
  const s = draft.schedule || {};
  const slot = draft.slot || {};
  return {
    departmentName: draft.departmentName || '',
    doctorName: s.doctor_name || '',
    title: s.title || '',
    dateText: s.date ? `${fmt.formatDateLong(s.date)} ${fmt.periodLabel(s.period)}` : '',
    timeText: slot.start ? `${fmt.formatTime(slot.start)}-${fmt.formatTime(slot.end)}` : '',
    feeText: fmt.formatFen(s.fee),
  };
}

module.exports = { getDraft, updateDraft, rememberBooking, lastBooking, summaryOf };
