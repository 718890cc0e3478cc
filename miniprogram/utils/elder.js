/**
 * 长辈模式 (large-font mode): one switch kept in storage; every page calls applyElderMode(this)
 * in onShow and puts {{elderClass}} on its root view, which scales text and touch targets.
 */
const ELDER_KEY = 'elderMode';

/** Whether large-font mode is on. */
function isElderMode() {
  return wx.getStorageSync(ELDER_KEY) === true;
}

/** Turns large-font mode on or off. */
function setElderMode(on) {
  wx.setStorageSync(ELDER_KEY, !!on);
}

/** Sets the page's elderMode/elderClass data from storage. */
function applyElderMode(page) {
  const on = isElderMode();
  page.setData({ elderMode: on, elderClass: on ? 'elder' : '' });
}

module.exports = { ELDER_KEY, isElderMode, setElderMode, applyElderMode };
