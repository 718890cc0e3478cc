/** Display formatting: money (fen → ¥), dates and times in the hospital's time zone. */

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const PERIODS = { am: '上午', pm: '下午', night: '晚上' };
const HOSPITAL_OFFSET_MINUTES = 8 * 60; // Asia/Shanghai, no daylight saving

/** Formats integer fen as "¥25.00"; anything not a whole number shows "¥--". */
function formatFen(fen) {
  if (typeof fen !== 'number' || !Number.isInteger(fen)) return '¥--';
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}¥${yuan}.${cents}`;
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

/** Wall-clock parts of a Date as seen in the hospital (UTC+8), whatever the phone's zone. */
function hospitalParts(date) {
  const shifted = new Date(date.getTime() + HOSPITAL_OFFSET_MINUTES * 60000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    weekday: shifted.getUTCDay(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
  };
}

/** "YYYY-MM-DD" of a Date in the hospital's zone. */
function toDateString(date) {
  const p = hospitalParts(date);
  return `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
}

/** Adds whole days to a "YYYY-MM-DD" string. */
function addDays(dateString, days) {
  const [y, m, d] = dateString.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`;
}

/** Weekday label ("周一") of a "YYYY-MM-DD" string. */
function weekdayOf(dateString) {
  const [y, m, d] = dateString.split('-').map(Number);
  return WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
}

/** "11月24日" of a "YYYY-MM-DD" string. */
function formatMonthDay(dateString) {
  const [, m, d] = dateString.split('-').map(Number);
  return `${m}月${d}日`;
}

/** "2026-11-24 周二" of a "YYYY-MM-DD" string. */
function formatDateLong(dateString) {
  if (!dateString) return '';
  return `${dateString} ${weekdayOf(dateString)}`;
}

/** "08:30" of an ISO 8601 time, in the hospital's zone. */
function formatTime(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const p = hospitalParts(t);
  return `${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** "11月24日 08:30" of an ISO 8601 time, in the hospital's zone. */
function formatDateTime(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const p = hospitalParts(t);
  return `${p.month}月${p.day}日 ${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** "09:58" (minutes:seconds) for a duration in milliseconds; never negative. */
function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${pad2(Math.floor(total / 60))}:${pad2(total % 60)}`;
}

/** "上午" / "下午" / "晚上" for a schedule period code. */
function periodLabel(period) {
  return PERIODS[period] || period || '';
}

module.exports = {
  formatFen,
  toDateString,
  addDays,
  weekdayOf,
  formatMonthDay,
  formatDateLong,
  formatTime,
  formatDateTime,
  formatCountdown,
  periodLabel,
};
