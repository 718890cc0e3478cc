/**
 * wx.requestPayment for end-to-end tests: the payer's side played against the sandbox pay gateway.
 * It remembers the out_trade_no of the last payment the BFF created (POST /api/v1/payments) and,
 * when the page opens the cashier, completes that trade through the gateway's
 * POST /_control/pay {out_trade_no, result} — the notification to the BFF follows as in real life.
 * Install after installLiveWx (it wraps the live wx.request). result: success | decline | cancel.
 */
const { postJson } = require('./live-wx');

function isPaymentCreation(opts) {
  return (opts.method || 'GET').toUpperCase() === 'POST' && new URL(opts.url).pathname === '/api/v1/payments';
}

function installSandboxPayment(gatewayBase, { result = 'success' } = {}) {
  const state = { result, lastTradeNo: null, calls: [] };
  const inner = wx.request;
  wx.request = (opts) => inner(Object.assign({}, opts, {
    success: (res) => {
      if (isPaymentCreation(opts) && res.data && res.data.out_trade_no) state.lastTradeNo = res.data.out_trade_no;
      opts.success(res);
    },
  }));
  wx.requestPayment = (opts) => {
    state.calls.push({ outTradeNo: state.lastTradeNo, package: opts.package });
    if (state.result === 'cancel') {
      setTimeout(() => opts.fail({ errMsg: 'requestPayment:fail cancel' }), 0);
      return;
    }
    const outcome = state.result === 'decline' ? 'decline' : 'success';
    postJson(gatewayBase, '/_control/pay', { out_trade_no: state.lastTradeNo, result: outcome }).then(
      () => (outcome === 'success' ? opts.success({ errMsg: 'requestPayment:ok' }) : opts.fail({ errMsg: 'requestPayment:fail declined' })),
      (err) => opts.fail({ errMsg: `requestPayment:fail ${err.message}` }),
    );
  };
  return state;
}

module.exports = { installSandboxPayment };
