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
  confirmed: '已预约',
  checked_in: '已签到',
  completed: '已就诊',
  cancelled: '已取消',
  expired: '已过期',
  refunded: '已退款',
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

module.exports = { RELATIONS, relationLabel, statusLabel };
