/** 添加就诊人: name, resident ID (check digit and birth date checked as typed), mobile, relation. */
const { addPatient } = require('../../../services/patients');
const { applyElderMode } = require('../../../utils/elder');
const { RELATIONS } = require('../../../utils/labels');
const { newIdempotencyKey } = require('../../../utils/idempotency');
const { idNumberError, phoneError, nameError } = require('../../../utils/id-card');
const { messageOf } = require('../../../utils/errors');

const CHECKS = { name: nameError, idNumber: idNumberError, phone: phoneError };
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
  },

  onShow() {
    applyElderMode(this);
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
      await addPatient(patient, this.submitKey);
      this.submitKey = null;
      this.setData({ submitting: false });
      wx.showToast({ title: '添加成功', icon: 'success' });
      wx.navigateBack({ delta: 1 });
    } catch (err) {
      this.showServerError(err);
    }
  },

  showServerError(err) {
    if (err.status !== 0 && err.code !== 'HTTP_ERROR') this.submitKey = null;
    const update = { submitting: false, formError: messageOf(err) };
    const details = (err.details && (err.details.fields || err.details)) || {};
    Object.keys(SERVER_FIELDS).forEach((key) => {
      const msg = firstMessage(details[key]);
      if (msg) update[`errors.${SERVER_FIELDS[key]}`] = msg;
    });
    this.setData(update);
  },
});
