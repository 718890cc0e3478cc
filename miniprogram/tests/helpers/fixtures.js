/** Sample BFF answers shaped as API.md describes them. */
const fmt = require('../../utils/format');

const today = fmt.toDateString(new Date());
const tomorrow = fmt.addDays(today, 1);

const departments = {
  items: [
    {
      code: 'IM',
      name: '内科',
      children: [
        { code: 'IM-CARD', name: '心血管内科', intro: '高血压、冠心病、心律失常' },
        { code: 'IM-RESP', name: '呼吸内科', intro: '咳嗽、哮喘、慢阻肺' },
      ],
    },
    {
      code: 'SURG',
      name: '外科',
      children: [{ code: 'SURG-ORTH', name: '骨科', intro: '骨折、关节病、腰腿痛' }],
    },
  ],
};

function schedule(overrides) {
  return Object.assign({
    id: 101,
    doctor_code: 'D001',
    doctor_name: '张明',
    title: '主任医师',
    department_code: 'IM-CARD',
    date: today,
    period: 'am',
    fee: 2500,
    total: 20,
    remaining: 7,
    status: 'open',
    release_at: null,
  }, overrides);
}

const schedules = {
  items: [
    schedule({}),
    schedule({ id: 102, doctor_code: 'D002', doctor_name: '李华', title: '副主任医师', fee: 1800, remaining: 0, status: 'full' }),
    schedule({
      id: 103, doctor_code: 'D003', doctor_name: '王芳', title: '主治医师', fee: 1000, remaining: 20,
      status: 'not_released', date: tomorrow, release_at: `${today}T15:00:00+08:00`,
    }),
    schedule({ id: 104, doctor_code: 'D004', doctor_name: '赵强', title: '主任医师', period: 'pm', fee: 3000, remaining: 3 }),
  ],
};

const slots = {
  items: [
    { id: 1001, start: `${today}T08:00:00+08:00`, end: `${today}T08:30:00+08:00`, capacity: 4, remaining: 2, status: 'open' },
    { id: 1002, start: `${today}T08:30:00+08:00`, end: `${today}T09:00:00+08:00`, capacity: 4, remaining: 0, status: 'full' },
  ],
};

const patients = {
  items: [
    {
      id: 11, name: '王建国', relation: 'self', id_type: '01', id_number_masked: '110101************',
      phone_masked: '138****5678', gender: 'male', birthday: '1950-03-07', his_patient_id: 'H001', is_default: false,
    },
    {
      id: 12, name: '李秀英', relation: 'spouse', id_type: '01', id_number_masked: '330106************',
      phone_masked: '139****1234', gender: 'female', birthday: '1952-06-01', his_patient_id: 'H002', is_default: true,
    },
  ],
};

function appointment(overrides) {
  return Object.assign({
    id: 501,
    status: 'confirmed',
    patient: { id: 12, name: '李秀英' },
    schedule: schedules.items[0],
    slot: slots.items[0],
    fee: 2500,
    hold_expires_at: null,
    visit_no: 8,
  }, overrides);
}

/** The five fields wx.requestPayment takes, as the server signs them. */
const payParams = {
  timeStamp: '1764031800',
  nonceStr: 'n0nce5tr1ng',
  package: 'prepay_id=wx2417000000000000000000000001',
  signType: 'RSA',
  paySign: 'c2lnbmF0dXJl',
};

function payment(overrides) {
  return Object.assign({
    id: 9001,
    out_trade_no: 'YQ20261124000001',
    order_type: 'appointment',
    order_id: '501',
    amount: 2500,
    channel: 'wechat',
    status: 'pending',
    pay_params: payParams,
    paid_at: null,
    expires_at: `${today}T09:40:00+08:00`,
    refunded: 0,
    refunds: [],
  }, overrides);
}

/** A booking held for payment until 09:40 (hospital time) today. */
function heldAppointment(overrides) {
  return appointment(Object.assign({
    status: 'awaiting_payment', hold_expires_at: `${today}T09:40:00+08:00`, visit_no: null, payment: null,
  }, overrides));
}

const paidPayment = {
  id: 9001, status: 'paid', channel: 'wechat', amount: 2500, paid_at: `${today}T09:31:00+08:00`, refunded: 0, refunds: [],
};

const bills = {
  items: [
    {
      id: 'B1001', title: '西药费', department: '心血管内科', doctor_name: '张明', amount: 4620,
      created_at: `${today}T09:05:00+08:00`,
      items: [
        { name: '阿司匹林肠溶片', amount: 1620, quantity: '2盒', category: '西药费' },
        { name: '硝苯地平缓释片', amount: 3000, quantity: '1盒', category: '西药费' },
      ],
    },
    {
      id: 'B1002', title: '检查费', department: '心血管内科', doctor_name: '张明', amount: 18000,
      created_at: `${today}T09:10:00+08:00`,
      items: [{ name: '心脏彩超', amount: 18000, quantity: '1次', category: '检查费' }],
    },
  ],
};

function settlement(overrides) {
  return Object.assign({
    id: 'S7001',
    patient_id: 12,
    amount: 22620,
    status: 'pending',
    bills: bills.items.map((b) => ({ id: b.id, title: b.title, department: b.department, amount: b.amount })),
    receipt_no: null,
    failure_reason: null,
    expires_at: `${tomorrow}T00:00:00+08:00`,
    created_at: `${today}T09:20:00+08:00`,
    settled_at: null,
    payment: null,
  }, overrides);
}

function healthCard(overrides) {
  return Object.assign({
    id: 301,
    patient_id: 11,
    health_card_id: '5B3A7C9D1E2F40618293A4B5C6D79F21',
    qr_code_text: '5B3A7C9D1E2F40618293A4B5C6D79F21:1',
    status: 'active',
    patient: { id: 11, name: '王建国', id_number_masked: '110101************', phone_masked: '138****5678', relation: 'self' },
  }, overrides);
}

// A 1×1 PNG: what the page shows is the data URL, not the picture.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

module.exports = {
  today, tomorrow, departments, schedules, slots, patients, appointment,
  payParams, payment, heldAppointment, paidPayment, bills, settlement, healthCard, PNG_BASE64,
};
