/** 选择医生和日期: an eight-day strip, 上午/下午, each doctor with title, fee and numbers left. */
const config = require('../../../config');
const { listSchedules, listDoctors } = require('../../../services/catalog');
const { applyElderMode } = require('../../../utils/elder');
const { getDraft, updateDraft } = require('../../../utils/booking-draft');
const { messageOf } = require('../../../utils/errors');
const fmt = require('../../../utils/format');

const PERIOD_ORDER = ['am', 'pm', 'night'];

function buildDays(today, count) {
  return Array.from({ length: count }, (_, i) => {
    const date = fmt.addDays(today, i);
    let label = fmt.weekdayOf(date);
    if (i === 0) label = '今天';
    if (i === 1) label = '明天';
    return { date, label, monthDay: fmt.formatMonthDay(date) };
  });
}

/** What a schedule shows: remaining, 约满, 未放号 with its release time, 停诊. */
function describe(schedule, doctorsByCode) {
  const doctor = doctorsByCode[schedule.doctor_code] || {};
  let state = 'open';
  let stateText = `余${schedule.remaining}号`;
  if (schedule.status === 'not_released') {
    state = 'not_released';
    stateText = '未放号';
  } else if (schedule.status === 'stopped') {
    state = 'stopped';
    stateText = '停诊';
  } else if (schedule.status === 'full' || schedule.remaining <= 0) {
    state = 'full';
    stateText = '约满';
  }
  return {
    id: schedule.id,
    doctorName: schedule.doctor_name,
    title: schedule.title,
    specialty: doctor.specialty || '',
    feeText: fmt.formatFen(schedule.fee),
    state,
    stateText,
    releaseText: state === 'not_released' && schedule.release_at
      ? `${fmt.formatDateTime(schedule.release_at)} 放号` : '',
    bookable: state === 'open',
  };
}

Page({
  data: {
    departmentName: '',
    days: [],
    activeDate: '',
    periods: [],
    activePeriod: 'am',
    items: [],
    loading: true,
    errorMessage: '',
    stale: false,
    elderClass: '',
  },

  onLoad(query) {
    const draft = getDraft();
    this.department = query.department || draft.departmentCode;
    const today = fmt.toDateString(new Date());
    const days = buildDays(today, config.bookingDays);
    this.setData({ departmentName: draft.departmentName || '', days, activeDate: today });
    if (draft.departmentName) wx.setNavigationBarTitle({ title: draft.departmentName });
    return this.loadSchedules();
  },

  onShow() {
    applyElderMode(this);
  },

  async loadSchedules() {
    const { days } = this.data;
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [schedules, doctors] = await Promise.all([
        listSchedules({ department: this.department, dateFrom: days[0].date, dateTo: days[days.length - 1].date }),
        listDoctors(this.department).catch(() => []),
      ]);
      this.schedules = schedules.items;
      this.doctorsByCode = {};
      doctors.forEach((d) => { this.doctorsByCode[d.code] = d; });
      this.setData({ loading: false, stale: schedules.stale });
      this.refreshList();
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  refreshList() {
    const { activeDate } = this.data;
    const ofDay = (this.schedules || []).filter((s) => s.date === activeDate);
    const periods = PERIOD_ORDER.filter((p) => p !== 'night' || ofDay.some((s) => s.period === 'night'))
      .map((p) => ({ value: p, label: fmt.periodLabel(p) }));
    const activePeriod = periods.some((p) => p.value === this.data.activePeriod) ? this.data.activePeriod : 'am';
    const days = this.data.days.map((d) => {
      const open = (this.schedules || []).some((s) => s.date === d.date && s.status === 'open' && s.remaining > 0);
      return Object.assign({}, d, { hasOpen: open });
    });
    const items = ofDay.filter((s) => s.period === activePeriod).map((s) => describe(s, this.doctorsByCode));
    this.setData({ days, periods, activePeriod, items });
  },

  onSelectDate(e) {
    this.setData({ activeDate: e.currentTarget.dataset.date });
    this.refreshList();
  },

  onSelectPeriod(e) {
    this.setData({ activePeriod: e.currentTarget.dataset.period });
    this.refreshList();
  },

  onSelectSchedule(e) {
    const schedule = this.schedules.find((s) => String(s.id) === String(e.currentTarget.dataset.id));
    if (!schedule || describe(schedule, {}).state !== 'open') return;
    updateDraft({ schedule });
    wx.navigateTo({ url: `/pages/booking/slots/index?schedule_id=${encodeURIComponent(schedule.id)}` });
  },
});
