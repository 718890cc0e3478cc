/** 就诊人管理: the user's patients with masked ID and phone; add and delete. */
const { listPatients, deletePatient } = require('../../../services/patients');
const { applyElderMode } = require('../../../utils/elder');
const { relationLabel } = require('../../../utils/labels');
const { messageOf } = require('../../../utils/errors');

const MAX_PATIENTS = 5;

Page({
  data: {
    patients: [],
    maxPatients: MAX_PATIENTS,
    loading: true,
    errorMessage: '',
    actionError: '',
    elderClass: '',
  },

  onShow() {
    applyElderMode(this);
    return this.loadPatients();
  },

  async loadPatients() {
    this.setData({ loading: this.data.patients.length === 0, errorMessage: '' });
    try {
      const items = await listPatients();
      this.setData({
        loading: false,
        patients: items.map((p) => ({
          id: p.id,
          name: p.name,
          relationText: relationLabel(p.relation),
          idText: p.id_number_masked,
          phoneText: p.phone_masked,
          isDefault: !!p.is_default,
        })),
      });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  goAdd() {
    wx.navigateTo({ url: '/pages/patients/add/index' });
  },

  onDelete(e) {
    const { id, name } = e.currentTarget.dataset;
    wx.showModal({
      title: '删除就诊人',
      content: `确定删除就诊人“${name}”吗？`,
      confirmText: '删除',
      cancelText: '取消',
      confirmColor: '#d54941',
      success: (res) => {
        if (res.confirm) this.removePatient(id);
      },
    });
  },

  async removePatient(id) {
    this.setData({ actionError: '' });
    try {
      await deletePatient(id);
      wx.showToast({ title: '已删除', icon: 'success' });
      await this.loadPatients();
    } catch (err) {
      this.setData({ actionError: messageOf(err) });
    }
  },
});
