/** 电子健康卡: every patient with their card (出示) or 申领 for one without; applying opens the card. */
const { listPatients } = require('../../../services/patients');
const { listHealthCards, applyHealthCard } = require('../../../services/healthcards');
const { applyElderMode } = require('../../../utils/elder');
const { createKeyKeeper } = require('../../../utils/idempotency');
const { relationLabel } = require('../../../utils/labels');
const { describeCard } = require('../../../utils/health-card-view');
const { messageOf, outcomeUnknown } = require('../../../utils/errors');

function askConsent(name) {
  return new Promise((resolve) => {
    wx.showModal({
      title: '申领电子健康卡',
      content: `将使用“${name}”的姓名、身份证号和手机号向健康卡平台申领电子健康卡，用于在本院挂号、就诊和缴费时出示。`,
      confirmText: '同意申领',
      cancelText: '取消',
      success: (res) => resolve(!!res.confirm),
      fail: () => resolve(false),
    });
  });
}

function entriesOf(patients, cards) {
  return patients.map((p) => {
    const card = cards.find((c) => String(c.patient_id) === String(p.id));
    return {
      patientId: p.id,
      name: p.name,
      relationText: relationLabel(p.relation),
      idText: p.id_number_masked,
      isDefault: !!p.is_default,
      card: card ? describeCard(card) : null,
    };
  });
}

Page({
  data: {
    entries: [],
    loading: true,
    errorMessage: '',
    actionError: '',
    applyingId: '',
    elderClass: '',
  },

  onLoad() {
    this.applyKeys = {};
  },

  onShow() {
    applyElderMode(this);
    return this.load();
  },

  async load() {
    this.setData({ loading: this.data.entries.length === 0, errorMessage: '' });
    try {
      const [patients, cards] = await Promise.all([listPatients(), listHealthCards()]);
      this.setData({ loading: false, entries: entriesOf(patients, cards) });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  async onApply(e) {
    if (this.data.applyingId) return;
    const { id, name } = e.currentTarget.dataset;
    if (!(await askConsent(name))) return;
    const keeper = this.applyKeys[id] || (this.applyKeys[id] = createKeyKeeper());
    this.setData({ applyingId: id, actionError: '' });
    try {
      const card = await applyHealthCard(id, keeper.keyFor({ patientId: id }));
      keeper.done();
      this.setData({ applyingId: '' });
      wx.navigateTo({ url: `/pages/healthcard/card/index?id=${encodeURIComponent(card.id)}` });
      await this.load();
    } catch (err) {
      if (!outcomeUnknown(err)) keeper.done();
      this.setData({ applyingId: '', actionError: messageOf(err) });
    }
  },

  onShowCard(e) {
    wx.navigateTo({ url: `/pages/healthcard/card/index?id=${encodeURIComponent(e.currentTarget.dataset.cardId)}` });
  },

  goAddPatient() {
    wx.navigateTo({ url: '/pages/patients/add/index' });
  },
});
