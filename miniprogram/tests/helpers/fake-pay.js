/**
 * A fake wx.requestPayment for page tests: answers as the WeChat cashier would for a payer who
 * pays ('success'), closes the sheet ('cancel') or whose payment fails ('fail'), and records calls.
 * onPaid(params) runs before a success is answered (e.g. to mark the fake backend's payment paid).
 */
const ANSWERS = {
  cancel: { errMsg: 'requestPayment:fail cancel' },
  fail: { errMsg: 'requestPayment:fail 余额不足' },
};

function installFakePayment(behaviour = 'success', { onPaid } = {}) {
  const calls = [];
  const state = { behaviour };
  wx.requestPayment = (opts) => {
    const params = Object.assign({}, opts);
    delete params.success;
    delete params.fail;
    delete params.complete;
    calls.push(params);
    setTimeout(() => {
      if (state.behaviour === 'success') {
        if (onPaid) onPaid(params);
        opts.success({ errMsg: 'requestPayment:ok' });
      } else {
        opts.fail(ANSWERS[state.behaviour]);
      }
    }, 0);
  };
  return {
    calls,
    setBehaviour(next) {
      state.behaviour = next;
    },
  };
}

module.exports = { installFakePayment };
