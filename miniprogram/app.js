/** 医桥 mini-program entry: signs in quietly at launch so the first page loads fast. */
const { signIn } = require('./services/auth');
const { getToken } = require('./utils/request');

App({
  globalData: {},

  onLaunch() {
    if (!getToken()) {
      // Pages sign in on demand too; a failure here is retried by the first request.
      signIn().catch(() => {});
    }
  },
});
