/** 首页: hospital banner, the main entries and the 长辈模式 switch. */
const config = require('../../../config');
const { applyElderMode, setElderMode } = require('../../../utils/elder');

Page({
  data: {
    hospitalName: config.hospitalName,
    slogan: config.hospitalSlogan,
    elderMode: false,
    elderClass: '',
  },

  onShow() {
    applyElderMode(this);
  },

  onElderChange(e) {
    setElderMode(e.detail.value);
    applyElderMode(this);
    wx.showToast({ title: e.detail.value ? '已开启长辈模式' : '已关闭长辈模式', icon: 'none' });
  },

  goBooking() {
    wx.navigateTo({ url: '/pages/booking/departments/index' });
  },

  goAppointments() {
    wx.navigateTo({ url: '/pages/appointments/list/index' });
  },

  goHealthCards() {
    wx.navigateTo({ url: '/pages/healthcard/list/index' });
  },

  goBills() {
    wx.navigateTo({ url: '/pages/billing/bills/index' });
  },

  goPatients() {
    wx.navigateTo({ url: '/pages/patients/list/index' });
  },
});
