/**
 * 电子健康卡 (出示): the dynamic QR code with the patient's masked details and a countdown.
 * A new code is fetched on show and shortly before the current one expires; timers stop on
 * hide/unload. An expired code is never shown: past its deadline the image goes, and a failed
 * refresh says so with 重新获取.
 */
const { listHealthCards, getHealthCardQrCode } = require('../../../services/healthcards');
const { applyElderMode } = require('../../../utils/elder');
const { describeCard } = require('../../../utils/health-card-view');
const { messageOf } = require('../../../utils/errors');

const REFRESH_LEAD_MS = 5000; // fetch the next code this long before the current one expires
const TICK_MS = 1000;
const DATE_PRECISION_MS = 1000; // an HTTP Date has whole seconds: the server may be up to 1 s later

/**
 * When the code stops being valid, on the phone's clock. The lifetime is measured on the
 * server's clock (its Date header) when it sent one, so a phone set wrong cannot stretch it, and
 * counted from when we asked, so the time on the way does not either.
 */
function deadlineOf(code, sentAt) {
  const expires = Date.parse(code.expires_at);
  if (Number.isNaN(expires)) return sentAt;
  const serverNow = code.serverDate ? Date.parse(code.serverDate) : NaN;
  const lifetime = Number.isNaN(serverNow) ? expires - sentAt : expires - serverNow - DATE_PRECISION_MS;
  return sentAt + Math.max(0, lifetime);
}

Page({
  data: {
    card: null,
    cardError: '',
    qrSrc: '',
    qrCodeText: '', // what the image encodes (what a scanner reads); not shown as text
    qrState: 'loading', // loading | valid | expired | error
    secondsLeft: 0,
    refreshError: '',
    elderClass: '',
  },

  onLoad(query) {
    this.cardId = query.id;
    this.deadline = 0;
  },

  onShow() {
    applyElderMode(this);
    this.visible = true;
    this.autoRefresh = false;
    this.startTicking();
    // A code kept from before the page was hidden may have expired meanwhile: always ask anew.
    return Promise.all([this.loadCard(), this.fetchCode()]);
  },

  onHide() {
    this.visible = false;
    this.stopTicking();
  },

  onUnload() {
    this.onHide();
  },

  startTicking() {
    this.stopTicking();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  },

  stopTicking() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopExpiryTimer();
  },

  /** The second ticks may fall up to 1 s after the deadline: take the code away exactly at it. */
  startExpiryTimer() {
    this.stopExpiryTimer();
    const left = this.deadline - Date.now();
    if (left > 0 && this.visible) this.expiryTimer = setTimeout(() => this.tick(), left);
  },

  stopExpiryTimer() {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  },

  async loadCard() {
    if (this.data.card) return;
    try {
      const found = (await listHealthCards()).find((c) => String(c.id) === String(this.cardId));
      this.setData(found ? { card: describeCard(found), cardError: '' } : { cardError: '未找到该电子健康卡' });
    } catch (err) {
      this.setData({ cardError: messageOf(err) });
    }
  },

  /** Asks for a fresh code (one request at a time) and shows it. */
  fetchCode() {
    if (this.fetching) return this.fetching;
    const sentAt = Date.now();
    this.fetching = getHealthCardQrCode(this.cardId).then((code) => {
      this.deadline = deadlineOf(code, sentAt);
      // One automatic refresh per code, and only for a code that lives long enough to be worth it.
      this.autoRefresh = this.deadline - Date.now() > REFRESH_LEAD_MS;
      this.setData({ qrSrc: `data:image/png;base64,${code.png}`, qrCodeText: code.qr_code_text || '', refreshError: '' });
      this.startExpiryTimer();
    }, (err) => {
      this.setData({ refreshError: messageOf(err) || '二维码获取失败' });
    }).then(() => {
      this.fetching = null;
      this.tick();
    });
    this.tick();
    return this.fetching;
  },

  /** Each second: the countdown, the refresh shortly before expiry, and no image once expired. */
  tick() {
    const left = this.deadline - Date.now();
    if (left > 0) {
      this.setData({ qrState: 'valid', secondsLeft: Math.max(1, Math.round(left / 1000)) });
      if (left <= REFRESH_LEAD_MS && this.autoRefresh && !this.fetching && this.visible) {
        this.autoRefresh = false;
        this.fetchCode();
      }
      return;
    }
    let state = 'expired';
    if (this.fetching) state = 'loading';
    else if (this.data.refreshError) state = 'error';
    this.setData({ qrState: state, qrSrc: '', qrCodeText: '', secondsLeft: 0 });
  },

  onRetry() {
    this.setData({ refreshError: '' });
    return this.fetchCode();
  },
});
