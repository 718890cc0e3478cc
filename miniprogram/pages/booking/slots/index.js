/** 选择就诊时间: the 30-minute slots of one schedule with the numbers left in each. */
const { listSlots } = require('../../../services/catalog');
const { applyElderMode } = require('../../../utils/elder');
const { getDraft, updateDraft, summaryOf } = require('../../../utils/booking-draft');
const { messageOf } = require('../../../utils/errors');
const fmt = require('../../../utils/format');

Page({
  data: {
    summary: {},
    slots: [],
    loading: true,
    errorMessage: '',
    elderClass: '',
  },

  onLoad(query) {
    const draft = getDraft();
    this.scheduleId = query.schedule_id || (draft.schedule && draft.schedule.id);
    this.setData({ summary: summaryOf(draft) });
    return this.loadSlots();
  },

  onShow() {
    applyElderMode(this);
  },

  async loadSlots() {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const slots = await listSlots(this.scheduleId);
      this.slots = slots;
      this.setData({
        loading: false,
        slots: slots.map((slot) => ({
          id: slot.id,
          timeText: `${fmt.formatTime(slot.start)}-${fmt.formatTime(slot.end)}`,
          remaining: slot.remaining,
          available: slot.remaining > 0,
        })),
      });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectSlot(e) {
    const slot = this.slots.find((s) => String(s.id) === String(e.currentTarget.dataset.id));
    if (!slot || slot.remaining <= 0) return;
    updateDraft({ slot });
    wx.navigateTo({ url: `/pages/booking/confirm/index?slot_id=${encodeURIComponent(slot.id)}` });
  },
});
