/** Patient sign-in through WeChat (wx.login → BFF token). */
const { login, logout } = require('../utils/request');

/** Logs in and resolves with {token, expires_in, user}. */
function signIn() {
  return login();
}

/** Forgets the session. */
function signOut() {
  logout();
}

module.exports = { signIn, signOut };
