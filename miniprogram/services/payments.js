/** Payments of orders (a booking's fee, a settlement of outpatient fees) through the BFF's cashier. */
const { request } = require('../utils/request');

/**
 * Starts paying an order: {orderType: 'appointment'|'bills', orderId, channel} → the payment with
 * `pay_params` for wx.requestPayment. The server answers the order's pending payment again if any.
 */
function createPayment({ orderType, orderId, channel = 'wechat' }, idempotencyKey) {
  return request({
    method: 'POST',
    path: '/api/v1/payments',
    data: { order_type: orderType, order_id: String(orderId), channel },
    idempotencyKey,
  });
}

/** One payment: status (pending|paid|refunding|refunded|closed|failed) and its refunds. */
function getPayment(id) {
  return request({ path: `/api/v1/payments/${encodeURIComponent(id)}` });
}

module.exports = { createPayment, getPayment };
