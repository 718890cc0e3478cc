/** 选择科室: top-level departments on the left, their clinics with an intro on the right. */
const { listDepartments } = require('../../../services/catalog');
const { applyElderMode } = require('../../../utils/elder');
const { updateDraft } = require('../../../utils/booking-draft');
const { messageOf } = require('../../../utils/errors');

Page({
  data: {
    departments: [],
    activeIndex: 0,
    loading: true,
    errorMessage: '',
    elderClass: '',
  },

  onLoad() {
    return this.loadDepartments();
  },

  onShow() {
    applyElderMode(this);
  },

  async loadDepartments() {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const departments = await listDepartments();
      this.setData({ departments, activeIndex: 0, loading: false });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectParent(e) {
    this.setData({ activeIndex: Number(e.currentTarget.dataset.index) });
  },

  onSelectChild(e) {
    const parent = this.data.departments[this.data.activeIndex];
    const child = parent.children[Number(e.currentTarget.dataset.index)];
    updateDraft({ departmentCode: child.code, departmentName: child.name, parentName: parent.name });
    wx.navigateTo({ url: `/pages/booking/schedules/index?department=${encodeURIComponent(child.code)}` });
  },
});
