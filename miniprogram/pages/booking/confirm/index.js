/**
 * 确认预约: choose the patient, check the fee, book. One Idempotency-Key per attempt, reused
 * when the answer was lost on the way, so tapping again never books twice. When the hospital
 * takes the fee online the booking answers `awaiting_payment` and the pay step follows here;
 * whatever it ends in, the result page shows it (with 重新支付 when the money did not go).
 */
const { bookAppointment } = require('../../../services/appointments');
const { applyElderMode } = require('../../../utils/elder');
const { getDraft, rememberBooking, summaryOf } = require('../../../utils/booking-draft');
const { createKeyKeeper } = require('../../../utils/idempotency');
const { loadPatientChoices, preferredPatientId } = require('../../../utils/patient-choice');
const { payOrder } = require('../../../utils/pay-flow');
const { messageOf, outcomeUnknown } = require('../../../utils/errors');

// Answers after which the patient can simply try again on this page.
const RETRY_HERE = ['RATE_LIMITED', 'HIS_UNAVAILABLE', 'IDEMPOTENCY_KEY_REUSED'];
const UNCERTAIN_MESSAGE = '网络不稳定，暂未确认预约结果。请再点一次“确认预约”，不会重复挂号。';
const RESULT_PAGE = '/pages/booking/result/index';

Page({
  data: {
    summary: {},
    patients: [],
    selectedPatientId: '',
    loading: true,
    submitting: false,
    paying: false,
    errorMessage: '',
    elderClass: '',
  },

  onLoad() {
    this.bookKeys = createKeyKeeper(); // one key for this exact booking, a new one when what is booked changes
    this.payKeys = createKeyKeeper();
    this.draft = getDraft();
    this.setData({ summary: summaryOf(this.draft) });
  },

  onShow() {
    applyElderMode(this);
    return this.loadPatients();
  },

  onUnload() {
    this.unloaded = true;
  },

  async loadPatients() {
    try {
      const patients = await loadPatientChoices();
      this.setData({
        patients,
        loading: false,
        selectedPatientId: preferredPatientId(patients, this.data.selectedPatientId),
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
    const key = this.bookKeys.keyFor(body);
    this.setData({ submitting: true, errorMessage: '' });
    try {
      const appointment = await bookAppointment(body, key);
      this.bookKeys.done();
      rememberBooking(appointment);
      if (appointment.status === 'awaiting_payment') {
        await this.payForBooking(appointment);
        return;
      }
      wx.redirectTo({ url: `${RESULT_PAGE}?id=${encodeURIComponent(appointment.id)}` });
    } catch (err) {
      this.onBookingFailed(err);
    }
  },

  /** The booking is held, not yet paid: pay now, then show the outcome on the result page. */
  async payForBooking(appointment) {
    this.setData({ paying: true });
    const id = encodeURIComponent(appointment.id);
    let outcome;
    try {
      const paid = await payOrder({ orderType: 'appointment', orderId: appointment.id }, this.payKeys, {
        stopped: () => this.unloaded,
      });
      outcome = `pay=${paid.outcome}`;
    } catch (err) {
      outcome = `pay=error&code=${encodeURIComponent(err.code || '')}&message=${encodeURIComponent(messageOf(err))}`;
    }
    this.setData({ paying: false, submitting: false });
    wx.redirectTo({ url: `${RESULT_PAGE}?id=${id}&${outcome}` });
  },

  onBookingFailed(err) {
    if (outcomeUnknown(err)) {
      this.setData({ submitting: false, errorMessage: UNCERTAIN_MESSAGE });
      return;
    }
    this.bookKeys.done();
    if (RETRY_HERE.includes(err.code) || err.status >= 500) {
      this.setData({ submitting: false, errorMessage: messageOf(err) });
      return;
    }
    this.setData({ submitting: false });
    wx.redirectTo({
      url: `${RESULT_PAGE}?code=${encodeURIComponent(err.code || '')}`
        + `&message=${encodeURIComponent(messageOf(err))}`,
    });
  },
});
