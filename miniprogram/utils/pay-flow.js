/**
 * The pay step shared by booking, appointment detail and outpatient fees: create (or reuse) the
 * order's payment, open WeChat's cashier, then wait until the server has seen the money.
 */
const payments = require('../services/payments');
const { requestWechatPayment } = require('./wxpay');
const { pollUntil } = require('./poll');
const { outcomeUnknown } = require('./errors');

const POLL_INTERVAL_MS = 1000;
const POLL_TIMEOUT_MS = 15000;
const PAID = ['paid', 'refunding', 'refunded'];
const DEAD = ['closed', 'failed'];

async function startPayment(order, keeper) {
  const body = { orderType: order.orderType, orderId: order.orderId, channel: 'wechat' };
  try {
    const payment = await payments.createPayment(body, keeper.keyFor(body));
    keeper.done();
    return payment;
  } catch (err) {
    // Only a lost answer keeps the key: the retry must find the payment the server may have made.
    if (!outcomeUnknown(err)) keeper.done();
    throw err;
  }
}

/** Polls the payment until the server has it paid (or dead); 'confirming' when it is still pending. */
async function waitForServer(payment, stopped) {
  const seen = await pollUntil(
    () => payments.getPayment(payment.id),
    (p) => PAID.includes(p.status) || DEAD.includes(p.status),
    { intervalMs: POLL_INTERVAL_MS, timeoutMs: POLL_TIMEOUT_MS, stopped },
  );
  if (!seen.done) return { outcome: 'confirming', payment: seen.value || payment };
  return { outcome: PAID.includes(seen.value.status) ? 'paid' : 'failed', payment: seen.value };
}

/**
 * Pays an order ({orderType, orderId}) with WeChat Pay. Resolves {outcome, payment, errMsg} where
 * outcome is 'paid', 'confirming' (WeChat says paid, the server has not heard yet), 'cancelled'
 * or 'failed'; rejects with the ApiError when the payment cannot be created (HOLD_EXPIRED, …).
 * options.waitForPaid (default true) polls the payment; options.stopped ends the wait early.
 */
async function payOrder(order, keeper, { waitForPaid = true, stopped = () => false } = {}) {
  let payment;
  try {
    payment = await startPayment(order, keeper);
  } catch (err) {
    if (err.code === 'ORDER_ALREADY_PAID') return { outcome: 'paid', payment: null, errMsg: '' };
    throw err;
  }
  if (PAID.includes(payment.status)) return { outcome: 'paid', payment, errMsg: '' };
  if (payment.status !== 'pending' || !payment.pay_params) return { outcome: 'failed', payment, errMsg: '' };
  const answer = await requestWechatPayment(payment.pay_params);
  if (answer.result !== 'paid') return { outcome: answer.result, payment, errMsg: answer.errMsg };
  if (!waitForPaid) return { outcome: 'confirming', payment, errMsg: '' };
  return Object.assign({ errMsg: '' }, await waitForServer(payment, stopped));
}

module.exports = { payOrder, POLL_INTERVAL_MS, POLL_TIMEOUT_MS };
