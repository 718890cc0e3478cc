/** What outpatient bills and settlement orders show on screen. */
const fmt = require('./format');
const { billCategoryLabel, channelLabel } = require('./labels');

/** A pending bill with its checkbox and fold state. */
function describeBill(bill, checked) {
  return {
    id: bill.id,
    title: bill.title || '门诊费用',
    department: bill.department || '',
    doctorName: bill.doctor_name || '',
    amount: bill.amount,
    amountText: fmt.formatFen(bill.amount),
    createdText: fmt.formatDateTime(bill.created_at),
    checked,
    expanded: false,
    items: (bill.items || []).map((item) => ({
      name: item.name,
      quantity: item.quantity || '',
      categoryText: billCategoryLabel(item.category),
      amountText: fmt.formatFen(item.amount),
    })),
  };
}

/** The sum and count of the chosen bills. */
function totalsOf(bills) {
  const chosen = bills.filter((b) => b.checked);
  return {
    chosenCount: chosen.length,
    allChecked: bills.length > 0 && chosen.length === bills.length,
    totalText: fmt.formatFen(chosen.reduce((sum, b) => sum + b.amount, 0)),
  };
}

const PHASES = { settled: 'settled', cancelled: 'failed', refunded: 'failed', expired: 'expired' };

function refundText(order) {
  const payment = order.payment;
  if (!payment || !['paid', 'refunding', 'refunded'].includes(payment.status)) return '';
  const amount = fmt.formatFen(payment.refunded || payment.amount);
  return order.status === 'refunded' || payment.status === 'refunded'
    ? `已原路退款 ${amount}` : `退款处理中，${fmt.formatFen(payment.amount)} 将原路退回`;
}

/** A settlement order: phase waiting | settled | failed | expired, receipt, bills, refund. */
function describeSettlement(order) {
  const payment = order.payment;
  return {
    id: order.id,
    status: order.status,
    phase: PHASES[order.status] || 'waiting',
    receiptNo: order.receipt_no || '',
    amountText: fmt.formatFen(order.amount),
    settledAtText: fmt.formatDateTime(order.settled_at),
    paymentText: payment ? `${channelLabel(payment.channel)} ${fmt.formatFen(payment.amount)}` : '',
    failureReason: order.failure_reason || '',
    refundText: refundText(order),
    bills: (order.bills || []).map((b) => ({
      id: b.id, title: b.title, department: b.department || '', amountText: fmt.formatFen(b.amount),
    })),
  };
}

module.exports = { describeBill, totalsOf, describeSettlement };
