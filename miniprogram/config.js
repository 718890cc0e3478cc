/** Settings of the mini-program build; the BFF address can be changed at run time (see utils/request.js). */
module.exports = {
  apiBase: 'http://127.0.0.1:8000',
  hospitalName: '医桥示范医院',
  hospitalSlogan: '在线预约挂号 · 少排队 · 不跑空',
  bookingDays: 8,
};
