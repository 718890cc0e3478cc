/** WeChat's cashier: wx.requestPayment with the parameters the server signed, as a Promise that never rejects. */

/**
 * Opens the WeChat Pay sheet with the server's pay_params ({timeStamp, nonceStr, package,
 * signType, paySign}) and resolves {result: 'paid'|'cancelled'|'failed', errMsg}.
 * 'paid' only means WeChat says so; the server's payment status is what counts.
 */
function requestWechatPayment(payParams) {
  return new Promise((resolve) => {
    wx.requestPayment(Object.assign({}, payParams, {
      success: () => resolve({ result: 'paid', errMsg: '' }),
      fail: (res) => {
        const errMsg = (res && res.errMsg) || '';
        resolve({ result: errMsg.includes('cancel') ? 'cancelled' : 'failed', errMsg });
      },
    }));
  });
}

module.exports = { requestWechatPayment };
