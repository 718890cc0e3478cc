/**
 * 预约结果: success with the visit number, or the server's own Chinese reason. With online payment
 * it also tells how the pay step ended: 支付成功 while the hospital confirms (polled a few times),
 * 支付未完成 with the hold time and 重新支付, or a booking that closed (expired, refunded).
 */
const { getAppointment } = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { lastBooking } = require('../../../utils/booking-draft');
const { describeAppointment } = require('../../../utils/appointment-view');
const { createKeyKeeper } = require('../../../utils/idempotency');
const { payOrder } = require('../../../utils/pay-flow');
const { pollUntil } = require('../../../utils/poll');
const { messageOf } = require('../../../utils/errors');

const FALLBACK_FAILURE = '预约未成功，请稍后重试';
const BOOKED = ['confirmed', 'checked_in', 'completed'];
const CONFIRM_POLL = { intervalMs: 1500, timeoutMs: 12000 };
const UNPAID_MESSAGES = { cancelled: '您已取消支付', failed: '支付未成功，请重试' };
// Answers after which the booking itself has changed: read it again.
const RELOAD_AFTER = ['HOLD_EXPIRED', 'ORDER_NOT_PAYABLE', 'APPOINTMENT_NOT_FOUND'];

/** Query values may arrive encoded or not, depending on the caller. */
function safeDecode(value) {
  try {
    return decodeURIComponent(value);
  } catch (err) {
    return value;
  }
}

/** booked | confirming (paid, the hospital is confirming) | unpaid | closed. */
function phaseOf(view, payHint) {
  if (!view.status) return payHint && !['paid', 'confirming'].includes(payHint) ? 'unpaid' : 'booked';
  if (BOOKED.includes(view.status)) return 'booked';
  if (view.status === 'paid' || view.status === 'pending') return 'confirming';
  if (view.status === 'awaiting_payment') {
    return view.feePaid || payHint === 'paid' || payHint === 'confirming' ? 'confirming' : 'unpaid';
  }
  return 'closed';
}

function titleOf(phase, view, payHint) {
  if (phase === 'booked') return '预约成功';
  if (phase === 'unpaid') return '支付未完成';
  if (phase === 'confirming') {
    if (view.feePaid || view.status === 'paid' || payHint === 'paid') return '支付成功';
    return payHint === 'confirming' ? '正在确认支付结果' : '正在确认预约';
  }
  if (view.status === 'expired') return '支付超时，号源已释放';
  return view.feePaid ? '医院未能确认挂号' : '预约未成功';
}

Page({
  data: {
    ok: false,
    phase: '',
    title: '',
    appointment: null,
    payMessage: '',
    confirmSlow: false,
    busy: false,
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
    this.payHint = query.pay || '';
    this.payKeys = createKeyKeeper();
    const payMessage = query.pay === 'error' && query.message ? safeDecode(query.message) : (UNPAID_MESSAGES[query.pay] || '');
    this.setData({ payMessage });
    const known = lastBooking(query.id);
    if (known) this.show(known);
    return this.refresh();
  },

  onShow() {
    applyElderMode(this);
  },

  onUnload() {
    this.unloaded = true;
  },

  show(appt) {
    const view = describeAppointment(appt);
    const phase = phaseOf(view, this.payHint);
    this.setData({ ok: true, appointment: view, phase, title: titleOf(phase, view, this.payHint) });
    return phase;
  },

  async refresh() {
    try {
      const appt = await getAppointment(this.appointmentId);
      if (this.show(appt) === 'confirming') this.watchConfirmation();
    } catch (err) {
      // The booking was made (we have its id); a failed refresh only means older details.
      if (!this.data.appointment) this.show({ id: this.appointmentId });
    }
  },

  /** Paid: the booking becomes confirmed once the hospital has registered it; ask a few times. */
  watchConfirmation() {
    if (this.watching) return this.watching;
    this.setData({ confirmSlow: false });
    this.watching = pollUntil(
      async () => this.show(await getAppointment(this.appointmentId)),
      (phase) => phase !== 'confirming',
      Object.assign({ stopped: () => this.unloaded }, CONFIRM_POLL),
    ).then((seen) => {
      this.watching = null;
      if (!seen.done && !this.unloaded) this.setData({ confirmSlow: true });
    });
    return this.watching;
  },

  async onPayAgain() {
    if (this.data.busy) return;
    this.setData({ busy: true, payMessage: '' });
    try {
      const paid = await payOrder({ orderType: 'appointment', orderId: this.appointmentId }, this.payKeys, {
        stopped: () => this.unloaded,
      });
      this.payHint = paid.outcome;
      this.setData({ busy: false, payMessage: UNPAID_MESSAGES[paid.outcome] || '' });
    } catch (err) {
      this.setData({ busy: false, payMessage: messageOf(err) });
      if (!RELOAD_AFTER.includes(err.code)) return;
    }
    await this.refresh();
  },

  goDetail() {
    wx.redirectTo({ url: `/pages/appointments/detail/index?id=${encodeURIComponent(this.appointmentId)}` });
  },

  goBookAgain() {
    wx.redirectTo({ url: '/pages/booking/departments/index' });
  },

  goChooseAgain() {
    wx.navigateBack({ delta: 1 });
  },

  goHome() {
    wx.reLaunch({ url: '/pages/home/index/index' });
  },
});
