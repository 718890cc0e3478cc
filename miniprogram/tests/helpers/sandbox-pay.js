/**
 * wx.requestPayment for end-to-end tests: the payer's side played against the sandbox pay gateway.
 * When the page opens the cashier, it hands the very parameters the page passed to
 * wx.requestPayment to the gateway's POST /_control/pay {pay_params, result}: the simulator checks
 * paySign as the WeChat client does and completes the trade; the notification to the BFF follows
 * as in real life. It also remembers the out_trade_no of the last payment the BFF created.
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
    const payParams = {
      timeStamp: opts.timeStamp, nonceStr: opts.nonceStr, package: opts.package, signType: opts.signType, paySign: opts.paySign,
    };
    postJson(gatewayBase, '/_control/pay', { pay_params: payParams, result: outcome }).then(
      () => (outcome === 'success' ? opts.success({ errMsg: 'requestPayment:ok' }) : opts.fail({ errMsg: 'requestPayment:fail declined' })),
      (err) => opts.fail({ errMsg: `requestPayment:fail ${err.message}` }),
    );
  };
  return state;
}

module.exports = { installSandboxPayment };
