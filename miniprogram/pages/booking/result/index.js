/** 预约结果: success with the visit number, or the server's own Chinese reason. */
const { getAppointment } = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { lastBooking } = require('../../../utils/booking-draft');
const { describeAppointment } = require('../../../utils/appointment-view');

const FALLBACK_FAILURE = '预约未成功，请稍后重试';

/** Query values may arrive encoded or not, depending on the caller. */
function safeDecode(value) {
  try {
    return decodeURIComponent(value);
  } catch (err) {
    return value;
  }
}

Page({
  data: {
    ok: false,
    appointment: null,
    errorCode: '',
    errorMessage: '',
    elderClass: '',
  },

  onLoad(query) {
    if (!query.id) {
      this.setData({
        ok: false,
        errorCode: query.code || '',
        errorMessage: query.message ? safeDecode(query.message) : FALLBACK_FAILURE,
      });
      return undefined;
    }
    this.appointmentId = query.id;
    const known = lastBooking(query.id);
    if (known) this.setData({ ok: true, appointment: describeAppointment(known) });
    return this.refresh();
  },

  onShow() {
    applyElderMode(this);
  },

  async refresh() {
    try {
      const appt = await getAppointment(this.appointmentId);
      this.setData({ ok: true, appointment: describeAppointment(appt) });
    } catch (err) {
      // The booking was made (we have its id); a failed refresh only means older details.
      if (!this.data.appointment) {
        this.setData({ ok: true, appointment: describeAppointment({ id: this.appointmentId }) });
      }
    }
  },

  goDetail() {
    wx.redirectTo({ url: `/pages/appointments/detail/index?id=${encodeURIComponent(this.appointmentId)}` });
  },

  goChooseAgain() {
    wx.navigateBack({ delta: 1 });
  },

  goHome() {
    wx.reLaunch({ url: '/pages/home/index/index' });
  },
});
