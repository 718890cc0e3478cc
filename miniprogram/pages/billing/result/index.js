/**
 * 缴费结果: follows the settlement order after WeChat Pay until the hospital has settled it
 * (收据号, the bills, the amount) or refused it (the reason; the money goes back by itself).
 */
const { getSettlement } = require('../../../services/billing');
const { applyElderMode } = require('../../../utils/elder');
const { describeSettlement } = require('../../../utils/bill-view');
const { pollUntil } = require('../../../utils/poll');
const { messageOf } = require('../../../utils/errors');

const WATCH = { intervalMs: 1000, timeoutMs: 20000 };
// A refused order is shown at once but followed on until its refund has landed.
const SETTLED = ['settled', 'refunded', 'expired'];

Page({
  data: {
    order: null,
    loading: true,
    watching: false,
    slow: false,
    errorMessage: '',
    elderClass: '',
  },

  onLoad(query) {
    this.orderId = query.id;
    return this.refresh();
  },

  onShow() {
    applyElderMode(this);
  },

  onUnload() {
    this.unloaded = true;
  },

  show(order) {
    const view = describeSettlement(order);
    this.setData({ order: view, loading: false, errorMessage: '' });
    return order;
  },

  async refresh() {
    try {
      const order = this.show(await getSettlement(this.orderId));
      this.setData({ slow: false });
      if (!SETTLED.includes(order.status)) this.watch();
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
      this.watch();
    }
  },

  /** Asks about the order every second for a while; then offers 刷新 if it is still under way. */
  watch() {
    if (this.watching) return this.watching;
    this.setData({ watching: true, slow: false });
    this.watching = pollUntil(
      async () => this.show(await getSettlement(this.orderId)),
      (order) => SETTLED.includes(order.status),
      Object.assign({ stopped: () => this.unloaded }, WATCH),
    ).then((seen) => {
      this.watching = null;
      if (this.unloaded) return;
      this.setData({ watching: false, slow: !seen.done });
    });
    return this.watching;
  },

  onRefresh() {
    return this.refresh();
  },

  goBills() {
    wx.navigateBack({ delta: 1 });
  },

  goHome() {
    wx.reLaunch({ url: '/pages/home/index/index' });
  },
});
