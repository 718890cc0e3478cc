/** 预约详情: details, cancel (after a confirm dialog), 签到 and the queue. */
const appointments = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { describeAppointment } = require('../../../utils/appointment-view');
const { messageOf } = require('../../../utils/errors');

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

Page({
  data: {
    appointment: null,
    queue: null,
    loading: true,
    busy: false,
    errorMessage: '',
    actionError: '',
    elderClass: '',
  },

  onLoad(query) {
    this.appointmentId = query.id;
  },

  onShow() {
    applyElderMode(this);
    return this.loadAppointment();
  },

  async loadAppointment() {
    this.setData({ loading: !this.data.appointment, errorMessage: '' });
    try {
      const appt = await appointments.getAppointment(this.appointmentId);
      const view = describeAppointment(appt);
      this.setData({ loading: false, appointment: view });
      if (view.showQueue) await this.loadQueue();
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
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

  async onCancel() {
    if (this.data.busy) return;
    const ok = await confirmDialog('取消预约', '确定要取消这次预约吗？取消后号源会释放给其他患者。', '确定取消');
    if (!ok) return;
    this.setData({ busy: true, actionError: '' });
    try {
      const appt = await appointments.cancelAppointment(this.appointmentId);
      this.setData({ busy: false, appointment: describeAppointment(appt), queue: null });
      wx.showToast({ title: '已取消预约', icon: 'success' });
    } catch (err) {
      this.setData({ busy: false, actionError: messageOf(err) });
    }
  },

  async onCheckIn() {
    if (this.data.busy) return;
    this.setData({ busy: true, actionError: '' });
    try {
      const appt = await appointments.checkIn(this.appointmentId);
      this.setData({ busy: false, appointment: describeAppointment(appt) });
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
