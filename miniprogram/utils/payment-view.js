/** What a payment and its refunds show on screen: "已支付 ¥25.00 微信支付", "退款中 ¥25.00", "已退款 ¥25.00 …". */
const fmt = require('./format');
const { paymentStatusLabel, refundStatusLabel, channelLabel } = require('./labels');

const PAID_STATES = ['paid', 'refunding', 'refunded'];

function describeRefund(refund) {
  const statusText = refundStatusLabel(refund.status);
  const timeText = refund.status === 'succeeded' ? fmt.formatDateTime(refund.succeeded_at) : '';
  return {
    status: refund.status,
    statusText,
    amountText: fmt.formatFen(refund.amount),
    reason: refund.reason || '',
    timeText,
    text: [statusText, fmt.formatFen(refund.amount), timeText].filter(Boolean).join(' '),
  };
}

/** The main line: what happened to the money itself. */
function summaryOf(payment) {
  const amount = fmt.formatFen(payment.amount);
  if (PAID_STATES.includes(payment.status)) return `已支付 ${amount} ${channelLabel(payment.channel)}`;
  if (payment.status === 'pending') return `待支付 ${amount}`;
  return paymentStatusLabel(payment.status);
}

/** A refund line for a payment whose refunds the server did not list (e.g. status only). */
function impliedRefund(payment) {
  if (payment.status === 'refunding') return { status: 'pending', amount: payment.amount - (payment.refunded || 0) };
  if (payment.status === 'refunded') return { status: 'succeeded', amount: payment.refunded || payment.amount };
  return null;
}

/** Display fields of a payment ({id, status, channel, amount, paid_at, refunded, refunds}); null for none. */
function describePayment(payment) {
  if (!payment) return null;
  const listed = (payment.refunds || []).map(describeRefund);
  const implied = listed.length ? null : impliedRefund(payment);
  return {
    id: payment.id,
    status: payment.status,
    statusText: paymentStatusLabel(payment.status),
    isPaid: PAID_STATES.includes(payment.status),
    summary: summaryOf(payment),
    paidAtText: PAID_STATES.includes(payment.status) ? fmt.formatDateTime(payment.paid_at) : '',
    refunds: implied ? [describeRefund(implied)] : listed,
  };
}

module.exports = { describePayment };
