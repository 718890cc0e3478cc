/** Labels for codes the API answers with. */

const RELATIONS = [
  { value: 'self', label: '本人' },
  { value: 'spouse', label: '配偶' },
  { value: 'child', label: '子女' },
  { value: 'parent', label: '父母' },
  { value: 'other', label: '其他' },
];

const STATUS_LABELS = {
  pending: '确认中',
  awaiting_payment: '待支付',
  paid: '支付成功，确认中',
  confirmed: '已预约',
  checked_in: '已签到',
  completed: '已就诊',
  cancelled: '已取消',
  expired: '已过期',
  refunded: '已退款',
};

const PAYMENT_STATUS_LABELS = {
  pending: '待支付',
  paid: '已支付',
  refunding: '退款中',
  refunded: '已退款',
  closed: '支付已关闭',
  failed: '支付未成功',
};

// The server retries a failed refund until the gateway takes it: to the patient it is still under way.
const REFUND_STATUS_LABELS = {
  pending: '退款中',
  processing: '退款中',
  succeeded: '已退款',
  failed: '退款处理中',
};

const CHANNEL_LABELS = { wechat: '微信支付', alipay: '支付宝' };

const BILL_CATEGORY_LABELS = {
  drug: '药品',
  medicine: '药品',
  exam: '检查',
  lab: '检验',
  treatment: '治疗',
  material: '材料',
  registration: '挂号',
};

/** "本人" for "self". */
function relationLabel(value) {
  const found = RELATIONS.find((r) => r.value === value);
  return found ? found.label : '其他';
}

/** "已预约" for "confirmed". */
function statusLabel(status) {
  return STATUS_LABELS[status] || status || '';
}

/** "已支付" for a payment's "paid". */
function paymentStatusLabel(status) {
  return PAYMENT_STATUS_LABELS[status] || status || '';
}

/** "已退款" for a refund's "succeeded". */
function refundStatusLabel(status) {
  return REFUND_STATUS_LABELS[status] || '退款中';
}

/** "微信支付" for "wechat". */
function channelLabel(channel) {
  return CHANNEL_LABELS[channel] || channel || '';
}

/** "药品" for "drug"; a category already in Chinese (as some HIS answer) shows as is. */
function billCategoryLabel(category) {
  return BILL_CATEGORY_LABELS[category] || category || '';
}

module.exports = {
  RELATIONS, relationLabel, statusLabel, paymentStatusLabel, refundStatusLabel, channelLabel, billCategoryLabel,
};
