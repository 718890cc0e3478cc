/**
 * 添加就诊人: name, resident ID (check digit and birth date checked as typed), mobile, relation.
 * When the hospital already knows the person, the server texts a code to the phone it holds and
 * the page asks for it (验证码 step, 重新发送 after 60 s) before the patient is added.
 */
const { addPatient, verifyPatient, resendCode } = require('../../../services/patients');
const { applyElderMode } = require('../../../utils/elder');
const { RELATIONS } = require('../../../utils/labels');
const { newIdempotencyKey } = require('../../../utils/idempotency');
const { idNumberError, phoneError, nameError } = require('../../../utils/id-card');
const { messageOf } = require('../../../utils/errors');

const CHECKS = { name: nameError, idNumber: idNumberError, phone: phoneError };
const RESEND_SECONDS = 60;

// What each refusal of the proof step means to the patient, and where it leaves them.
const CODE_ERRORS = {
  PATIENT_IDENTITY_MISMATCH: '姓名与医院登记的信息不一致，请核对姓名（少数民族姓名请注意中间的“·”）',
  VERIFICATION_EXPIRED: '验证码已过期，请点击“重新发送”获取新的验证码',
  VERIFICATION_NOT_FOUND: '验证已失效，请重新提交就诊人信息',
  SMS_UNAVAILABLE: '短信暂时无法发送，请稍后再试',
};
const SPENT = '验证码错误次数过多，请重新提交就诊人信息';

/** True when the tries are used up: the verification is spent, the user starts again. */
function spent(err) {
  return err.code === 'RATE_LIMITED' && !!err.details && err.details.reason === 'spent';
}

/** The message for a wrong code: how many tries are left when the server says. */
function wrongCodeMessage(err) {
  const left = err.details && err.details.attempts_left;
  return typeof left === 'number' ? `验证码不正确，还可以再试${left}次` : '验证码不正确，请重新输入';
}
const SERVER_FIELDS = { name: 'name', id_number: 'idNumber', phone: 'phone' };

function firstMessage(value) {
  if (Array.isArray(value)) return String(value[0]);
  if (value && typeof value === 'object') return firstMessage(Object.values(value)[0]);
  return value ? String(value) : '';
}

Page({
  data: {
    form: { name: '', idNumber: '', phone: '' },
    errors: { name: '', idNumber: '', phone: '' },
    relations: RELATIONS.map((r) => r.label),
    relationIndex: 0,
    submitting: false,
    formError: '',
    elderClass: '',
    step: 'form', // 'form', then 'code' when the hospital asks for proof
    verificationId: '',
    phoneMasked: '',
    code: '',
    codeError: '',
    countdown: 0,
    verifying: false,
    resending: false,
  },

  onShow() {
    applyElderMode(this);
  },

  onUnload() {
    this.stopCountdown();
  },

  onInput(e) {
    const { field } = e.currentTarget.dataset;
    let value = e.detail.value;
    if (field === 'idNumber') value = value.toUpperCase();
    this.setData({ [`form.${field}`]: value, formError: '' });
    // Check as soon as the number is complete; until then only clear an old message.
    const complete = (field === 'idNumber' && value.length >= 18) || (field === 'phone' && value.length >= 11);
    this.setData({ [`errors.${field}`]: complete ? CHECKS[field](value) : '' });
  },

  onBlur(e) {
    const { field } = e.currentTarget.dataset;
    this.setData({ [`errors.${field}`]: CHECKS[field](this.data.form[field]) });
  },

  onRelationChange(e) {
    this.setData({ relationIndex: Number(e.detail.value) });
  },

  validateAll() {
    const errors = {};
    Object.keys(CHECKS).forEach((field) => {
      errors[field] = CHECKS[field](this.data.form[field]);
    });
    this.setData({ errors });
    return Object.values(errors).every((msg) => !msg);
  },

  async onSubmit() {
    if (this.data.submitting || !this.validateAll()) return;
    const { form, relationIndex } = this.data;
    const patient = {
      name: form.name.trim(),
      id_type: '01',
      id_number: form.idNumber.trim(),
      phone: form.phone.trim(),
      relation: RELATIONS[relationIndex].value,
    };
    if (!this.submitKey || this.submitFingerprint !== JSON.stringify(patient)) {
      this.submitKey = newIdempotencyKey();
      this.submitFingerprint = JSON.stringify(patient);
    }
    this.setData({ submitting: true, formError: '' });
    try {
      const answer = await addPatient(patient, this.submitKey);
      this.submitKey = null;
      this.setData({ submitting: false });
      if (answer && answer.verification_id) this.askForCode(answer);
      else this.added();
    } catch (err) {
      this.showServerError(err);
    }
  },

  added() {
    this.stopCountdown();
    wx.showToast({ title: '添加成功', icon: 'success' });
    wx.navigateBack({ delta: 1 });
  },

  askForCode(answer) {
    this.verifyKey = null;
    this.setData({
      step: 'code', verificationId: answer.verification_id, phoneMasked: answer.phone_masked,
      code: '', codeError: '', formError: '',
    });
    this.startCountdown(RESEND_SECONDS);
  },

  backToForm(message) {
    this.stopCountdown();
    this.setData({ step: 'form', verificationId: '', code: '', codeError: '', formError: message });
  },

  startCountdown(seconds) {
    this.stopCountdown();
    this.setData({ countdown: seconds });
    this.countdownTimer = setInterval(() => {
      const left = this.data.countdown - 1;
      this.setData({ countdown: Math.max(left, 0) });
      if (left <= 0) this.stopCountdown();
    }, 1000);
  },

  stopCountdown() {
    if (this.countdownTimer) clearInterval(this.countdownTimer);
    this.countdownTimer = null;
  },

  onCodeInput(e) {
    this.setData({ code: String(e.detail.value || '').replace(/\D/g, '').slice(0, 6), codeError: '' });
  },

  async onVerify() {
    const { code, verificationId, verifying } = this.data;
    if (verifying) return;
    if (!/^\d{6}$/.test(code)) {
      this.setData({ codeError: '请输入6位数字验证码' });
      return;
    }
    if (!this.verifyKey || this.verifyFingerprint !== code) {
      this.verifyKey = newIdempotencyKey();
      this.verifyFingerprint = code;
    }
    this.setData({ verifying: true, codeError: '' });
    try {
      await verifyPatient(verificationId, code, this.verifyKey);
      this.setData({ verifying: false });
      this.added();
    } catch (err) {
      this.setData({ verifying: false });
      this.showCodeError(err);
    }
  },

  showCodeError(err) {
    if (err.code === 'VERIFICATION_CODE_INVALID') {
      this.setData({ codeError: wrongCodeMessage(err) });
    } else if (spent(err) || err.code === 'VERIFICATION_NOT_FOUND') {
      this.backToForm(spent(err) ? SPENT : CODE_ERRORS.VERIFICATION_NOT_FOUND);
    } else {
      this.setData({ codeError: CODE_ERRORS[err.code] || messageOf(err) });
    }
  },

  async onResend() {
    const { countdown, resending, verificationId } = this.data;
    if (countdown > 0 || resending) return;
    this.setData({ resending: true, codeError: '' });
    try {
      const answer = await resendCode(verificationId);
      this.setData({ resending: false, code: '', phoneMasked: answer.phone_masked || this.data.phoneMasked });
      this.startCountdown(RESEND_SECONDS);
      wx.showToast({ title: '验证码已重新发送', icon: 'none' });
    } catch (err) {
      this.setData({ resending: false });
      this.showResendError(err);
    }
  },

  showResendError(err) {
    const wait = err.details && err.details.retry_after;
    if (err.code === 'RATE_LIMITED' && typeof wait === 'number') {
      this.startCountdown(wait);
      this.setData({ codeError: `发送太频繁，请${wait}秒后再试` });
    } else if (spent(err) || err.code === 'VERIFICATION_NOT_FOUND') {
      this.backToForm(spent(err) ? SPENT : CODE_ERRORS.VERIFICATION_NOT_FOUND);
    } else {
      this.setData({ codeError: CODE_ERRORS[err.code] || messageOf(err) });
    }
  },

  showServerError(err) {
    if (err.status !== 0 && err.code !== 'HTTP_ERROR') this.submitKey = null;
    const update = { submitting: false, formError: CODE_ERRORS[err.code] || messageOf(err) };
    const details = (err.details && (err.details.fields || err.details)) || {};
    Object.keys(SERVER_FIELDS).forEach((key) => {
      const msg = firstMessage(details[key]);
      if (msg) update[`errors.${SERVER_FIELDS[key]}`] = msg;
    });
    this.setData(update);
  },
});
