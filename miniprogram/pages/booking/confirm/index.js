/**
 * 确认预约: choose the patient, check the fee, book. One Idempotency-Key per attempt, reused
 * when the answer was lost on the way, so tapping again never books twice.
 */
const { listPatients } = require('../../../services/patients');
const { bookAppointment } = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { getDraft, rememberBooking, summaryOf } = require('../../../utils/booking-draft');
const { newIdempotencyKey } = require('../../../utils/idempotency');
const { relationLabel } = require('../../../utils/labels');
const { messageOf } = require('../../../utils/errors');

// Answers after which the patient can simply try again on this page.
const RETRY_HERE = ['RATE_LIMITED', 'HIS_UNAVAILABLE', 'IDEMPOTENCY_KEY_REUSED'];
const UNCERTAIN_MESSAGE = '网络不稳定，暂未确认预约结果。请再点一次“确认预约”，不会重复挂号。';

/** True when the booking may or may not have been made (no answer from the BFF itself). */
function outcomeUnknown(err) {
  return err.status === 0 || err.code === 'HTTP_ERROR';
}

Page({
  data: {
    summary: {},
    patients: [],
    selectedPatientId: '',
    loading: true,
    submitting: false,
    errorMessage: '',
    elderClass: '',
  },

  onLoad() {
    this.draft = getDraft();
    this.setData({ summary: summaryOf(this.draft) });
  },

  onShow() {
    applyElderMode(this);
    return this.loadPatients();
  },

  async loadPatients() {
    try {
      const items = await listPatients();
      const patients = items.map((p) => ({
        id: p.id,
        name: p.name,
        relationText: relationLabel(p.relation),
        idText: p.id_number_masked,
        isDefault: !!p.is_default,
      }));
      const stillThere = patients.some((p) => String(p.id) === String(this.data.selectedPatientId));
      const preferred = patients.find((p) => p.isDefault) || patients[0];
      this.setData({
        patients,
        loading: false,
        selectedPatientId: stillThere ? this.data.selectedPatientId : (preferred ? preferred.id : ''),
      });
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectPatient(e) {
    this.setData({ selectedPatientId: e.currentTarget.dataset.id, errorMessage: '' });
  },

  goAddPatient() {
    wx.navigateTo({ url: '/pages/patients/add/index' });
  },

  /** The key for this exact booking; a new one only when what is booked changes. */
  keyFor(body) {
    const fingerprint = JSON.stringify(body);
    if (!this.pendingKey || this.pendingFingerprint !== fingerprint) {
      this.pendingKey = newIdempotencyKey();
      this.pendingFingerprint = fingerprint;
    }
    return this.pendingKey;
  },

  async onConfirm() {
    if (this.data.submitting) return;
    const { selectedPatientId } = this.data;
    if (!selectedPatientId) {
      this.setData({ errorMessage: '请先选择就诊人' });
      return;
    }
    const body = {
      patientId: selectedPatientId,
      scheduleId: this.draft.schedule && this.draft.schedule.id,
      slotId: this.draft.slot && this.draft.slot.id,
    };
    const key = this.keyFor(body);
    this.setData({ submitting: true, errorMessage: '' });
    try {
      const appointment = await bookAppointment(body, key);
      this.pendingKey = null;
      rememberBooking(appointment);
      wx.redirectTo({ url: `/pages/booking/result/index?id=${encodeURIComponent(appointment.id)}` });
    } catch (err) {
      this.onBookingFailed(err);
    }
  },

  onBookingFailed(err) {
    if (outcomeUnknown(err)) {
      this.setData({ submitting: false, errorMessage: UNCERTAIN_MESSAGE });
      return;
    }
    this.pendingKey = null;
    if (RETRY_HERE.includes(err.code) || err.status >= 500) {
      this.setData({ submitting: false, errorMessage: messageOf(err) });
      return;
    }
    this.setData({ submitting: false });
    wx.redirectTo({
      url: `/pages/booking/result/index?code=${encodeURIComponent(err.code || '')}`
        + `&message=${encodeURIComponent(messageOf(err))}`,
    });
  },
});
