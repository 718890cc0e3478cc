/** 我的预约: the user's appointments by status, newest first. */
const { listAppointments } = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { describeAppointment } = require('../../../utils/appointment-view');
const { messageOf } = require('../../../utils/errors');

const TABS = [
  { status: '', label: '全部' },
  { status: 'confirmed', label: '待就诊' },
  { status: 'awaiting_payment', label: '待支付' },
  { status: 'checked_in', label: '已签到' },
  { status: 'cancelled', label: '已取消' },
  { status: 'refunded', label: '已退款' },
];

Page({
  data: {
    tabs: TABS,
    activeStatus: '',
    items: [],
    loading: true,
    errorMessage: '',
    elderClass: '',
  },

  onShow() {
    applyElderMode(this);
    return this.loadAppointments();
  },

  async loadAppointments() {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const items = await listAppointments(this.data.activeStatus);
      this.setData({ loading: false, items: items.map(describeAppointment) });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectTab(e) {
    this.setData({ activeStatus: e.currentTarget.dataset.status });
    return this.loadAppointments();
  },

  onOpen(e) {
    wx.navigateTo({ url: `/pages/appointments/detail/index?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
  },
});
