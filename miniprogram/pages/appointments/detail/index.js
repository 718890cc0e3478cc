/**
 * 预约详情: details, payment and refund state, 去支付 while the place is held (with the time
 * left), cancel (after a confirm dialog; a paid fee is refunded), 签到 and the queue.
 */
const appointments = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { describeAppointment } = require('../../../utils/appointment-view');
const { createKeyKeeper } = require('../../../utils/idempotency');
const { payOrder } = require('../../../utils/pay-flow');
const { pollUntil } = require('../../../utils/poll');
const fmt = require('../../../utils/format');
const { messageOf } = require('../../../utils/errors');

const REFUND_POLL = { intervalMs: 2000, timeoutMs: 20000 };
// Once the hold has run out the server lets the place go within a few seconds (its periodic job);
// until it has, ask again now and then, never in a loop.
const HOLD_RECHECK_MS = 5000;
const HOLD_RECHECKS = 12;
// Answers after which the booking itself has changed: read it again.
const RELOAD_AFTER = ['HOLD_EXPIRED', 'ORDER_NOT_PAYABLE', 'CONFIRMING', 'NOT_CANCELLABLE'];

function confirmDialog(title, content, confirmText) {
  return new Promise((resolve) => {
    wx.showModal({
      title,
      content,
      confirmText,
      cancelText: '再想想',
      confirmColor: '#d54941',
      success: (res) => resolve(!!res.confirm),
      fail: () => resolve(false),
    });
  });
}

function cancelQuestion(view) {
  return view.feePaid
    ? `确定要取消这次预约吗？已付的挂号费 ${view.feeText} 将原路退回。`
    : '确定要取消这次预约吗？取消后号源会释放给其他患者。';
}

/** Still waiting for the money to go back after a cancellation. */
function refundUnderway(view) {
  return view.status === 'cancelled' && !!view.payment && view.payment.status === 'refunding';
}

Page({
  data: {
    appointment: null,
    queue: null,
    holdLeftText: '',
    loading: true,
    busy: false,
    errorMessage: '',
    actionError: '',
    elderClass: '',
  },

  onLoad(query) {
    this.appointmentId = query.id;
    this.payKeys = createKeyKeeper();
  },

  onShow() {
    this.hidden = false;
    applyElderMode(this);
    return this.loadAppointment();
  },

  onHide() {
    this.hidden = true;
    this.stopHoldClock();
  },

  onUnload() {
    this.onHide();
  },

  async loadAppointment() {
    this.setData({ loading: !this.data.appointment, errorMessage: '' });
    try {
      const appt = await appointments.getAppointment(this.appointmentId);
      const view = this.show(appt);
      if (view.showQueue) await this.loadQueue();
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  show(appt) {
    const view = describeAppointment(appt);
    this.setData({ loading: false, appointment: view });
    this.startHoldClock(view);
    return view;
  },

  /** While the place is held: the time left, each second; at zero the server has let it go. */
  startHoldClock(view) {
    this.stopHoldClock();
    if (!view.canPay || !view.holdExpiresAt || this.hidden) {
      this.setData({ holdLeftText: '' });
      return;
    }
    if (view.holdExpiresAt > Date.now()) this.holdRechecks = 0;
    const tick = () => {
      const left = view.holdExpiresAt - Date.now();
      this.setData({ holdLeftText: fmt.formatCountdown(left) });
      if (left <= 0) {
        this.stopHoldClock();
        this.recheckAfterHold();
      }
    };
    tick();
    if (view.holdExpiresAt > Date.now()) this.holdTimer = setInterval(tick, 1000);
  },

  /** The hold has run out: read the booking at once, then every few seconds while still held. */
  recheckAfterHold() {
    const done = this.holdRechecks || 0;
    if (done >= HOLD_RECHECKS) return;
    this.holdRechecks = done + 1;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      this.loadAppointment();
    }, done === 0 ? 0 : HOLD_RECHECK_MS);
  },

  stopHoldClock() {
    if (this.holdTimer) clearInterval(this.holdTimer);
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    this.holdTimer = null;
    this.recheckTimer = null;
  },

  async loadQueue() {
    try {
      const q = await appointments.getQueue(this.appointmentId);
      this.setData({
        queue: {
          queueNo: q.queue_no,
          currentNo: q.current_no === null || q.current_no === undefined ? '—' : q.current_no,
          ahead: q.ahead,
          waitText: q.estimated_wait_minutes === null || q.estimated_wait_minutes === undefined
            ? '—' : `约${q.estimated_wait_minutes}分钟`,
        },
        actionError: '',
      });
    } catch (err) {
      this.setData({ actionError: messageOf(err) });
    }
  },

  /** 去支付: the same pay step as booking; a paid booking goes on to the result page. */
  async onPay() {
    if (this.data.busy) return;
    this.setData({ busy: true, actionError: '' });
    try {
      const paid = await payOrder({ orderType: 'appointment', orderId: this.appointmentId }, this.payKeys, {
        stopped: () => this.hidden,
      });
      this.setData({ busy: false });
      if (paid.outcome === 'paid' || paid.outcome === 'confirming') {
        wx.redirectTo({ url: `/pages/booking/result/index?id=${encodeURIComponent(this.appointmentId)}&pay=${paid.outcome}` });
        return;
      }
      const until = this.data.appointment.holdUntilText;
      this.setData({ actionError: `支付未完成${until ? `，号源为您保留至 ${until}` : ''}` });
    } catch (err) {
      this.onActionFailed(err);
    }
  },

  async onCancel() {
    if (this.data.busy) return;
    const ok = await confirmDialog('取消预约', cancelQuestion(this.data.appointment), '确定取消');
    if (!ok) return;
    this.setData({ busy: true, actionError: '' });
    try {
      const appt = await appointments.cancelAppointment(this.appointmentId);
      this.setData({ busy: false, queue: null });
      const view = this.show(appt);
      wx.showToast({ title: view.feePaid ? '已取消，正在退款' : '已取消预约', icon: view.feePaid ? 'none' : 'success' });
      if (refundUnderway(view)) this.watchRefund();
    } catch (err) {
      this.onActionFailed(err);
    }
  },

  /** After cancelling a paid booking the refund lands shortly: look again a few times. */
  watchRefund() {
    this.watching = pollUntil(
      async () => this.show(await appointments.getAppointment(this.appointmentId)),
      (view) => !refundUnderway(view),
      Object.assign({ stopped: () => this.hidden }, REFUND_POLL),
    );
    return this.watching;
  },

  onActionFailed(err) {
    // CONFIRMING: paid, the hospital is confirming — the server's message says to try again shortly.
    this.setData({ busy: false, actionError: messageOf(err) });
    if (RELOAD_AFTER.includes(err.code)) this.reloadQuietly();
  },

  async reloadQuietly() {
    try {
      this.show(await appointments.getAppointment(this.appointmentId));
    } catch (err) {
      // Keep what is shown; the action's message already says what went wrong.
    }
  },

  async onCheckIn() {
    if (this.data.busy) return;
    this.setData({ busy: true, actionError: '' });
    try {
      const appt = await appointments.checkIn(this.appointmentId);
      this.setData({ busy: false });
      this.show(appt);
      wx.showToast({ title: '签到成功', icon: 'success' });
      await this.loadQueue();
    } catch (err) {
      this.setData({ busy: false, actionError: messageOf(err) });
    }
  },

  onRefreshQueue() {
    return this.loadQueue();
  },
});
