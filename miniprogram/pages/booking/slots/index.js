/** 选择就诊时间: the 30-minute slots of one schedule with the numbers left in each; ended ones greyed. */
const { listSlots } = require('../../../services/catalog');
const { applyElderMode } = require('../../../utils/elder');
const { getDraft, updateDraft, summaryOf } = require('../../../utils/booking-draft');
const { messageOf } = require('../../../utils/errors');
const fmt = require('../../../utils/format');

const STATE_TEXT = { full: '约满', passed: '已过' };

/** The server's slot status; a server without one is judged by the numbers left. */
function statusOf(slot) {
  return slot.status || (slot.remaining > 0 ? 'open' : 'full');
}

Page({
  data: {
    summary: {},
    slots: [],
    loading: true,
    errorMessage: '',
    allGone: false,
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
      const shown = slots.map((slot) => {
        const status = statusOf(slot);
        return {
          id: slot.id,
          timeText: `${fmt.formatTime(slot.start)}-${fmt.formatTime(slot.end)}`,
          available: status === 'open',
          stateText: status === 'open' ? `余${slot.remaining}号` : STATE_TEXT[status] || '不可约',
        };
      });
      this.setData({ loading: false, slots: shown, allGone: shown.length > 0 && !shown.some((s) => s.available) });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectSlot(e) {
    const slot = this.slots.find((s) => String(s.id) === String(e.currentTarget.dataset.id));
    if (!slot || statusOf(slot) !== 'open') return;
    updateDraft({ slot });
    wx.navigateTo({ url: `/pages/booking/confirm/index?slot_id=${encodeURIComponent(slot.id)}` });
  },
});
