/** Payments in 我的预约: the hold countdown and 去支付, payment and refund state, cancelling a paid booking. */
const { renderPage, textOf, tap, advance, settle, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const { installFakePayment } = require('../helpers/fake-pay');
const fx = require('../helpers/fixtures');

const NOW = new Date(`${fx.today}T09:30:00+08:00`);

beforeEach(() => {
  resetWorld();
  jest.useFakeTimers({ now: NOW });
});

afterEach(() => jest.useRealTimers());

const refunding = Object.assign({}, fx.paidPayment, {
  status: 'refunding', refunds: [{ amount: 2500, status: 'pending', reason: '患者取消预约退款', succeeded_at: null }],
});
const refunded = Object.assign({}, fx.paidPayment, {
  status: 'refunded', refunded: 2500,
  refunds: [{ amount: 2500, status: 'succeeded', reason: '患者取消预约退款', succeeded_at: `${fx.today}T10:02:00+08:00` }],
});

const detailGets = (fake) => fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/appointments/501');

test('a held booking shows the time left, ticking each second, and 去支付', async () => {
  const fake = installFakeBackend({ 'GET /api/v1/appointments/:id': () => fx.heldAppointment({}) });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  expect(textOf(page.querySelector('#status-tag'))).toBe('待支付');
  expect(textOf(page.querySelector('#hold-countdown'))).toBe('10:00');
  expect(textOf(page.querySelector('.hold'))).toContain('号源为您保留至 09:40');
  expect(textOf(page.querySelector('#pay-button'))).toBe('去支付 ¥25.00');

  await advance(61000);
  expect(textOf(page.querySelector('#hold-countdown'))).toBe('08:59');

  page.instance.onHide();
  await advance(5000);
  expect(textOf(page.querySelector('#hold-countdown'))).toBe('08:59');

  await settle(page.instance.onShow());
  expect(textOf(page.querySelector('#hold-countdown'))).toBe('08:54');
  fake.setRoute('GET /api/v1/appointments/:id', () => fx.heldAppointment({ status: 'expired' }));
  const before = detailGets(fake).length;
  await advance(9 * 60 * 1000);
  expect(detailGets(fake).length).toBe(before + 1);
  expect(textOf(page.querySelector('#status-tag'))).toBe('已过期');
  expect(page.querySelector('#pay-button')).toBeUndefined();
});

test('a hold the server has not let go yet is asked about every few seconds, not in a loop', async () => {
  const fake = installFakeBackend({ 'GET /api/v1/appointments/:id': () => fx.heldAppointment({}) });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  const before = detailGets(fake).length;
  await advance(10 * 60 * 1000 + 1000); // the hold runs out; the server still answers 待支付 (its job lags)
  const atExpiry = detailGets(fake).length;
  expect(atExpiry - before).toBeLessThanOrEqual(2);
  fake.setRoute('GET /api/v1/appointments/:id', () => fx.heldAppointment({ status: 'expired' }));
  await advance(5000);
  expect(textOf(page.querySelector('#status-tag'))).toBe('已过期');
  await advance(60000);
  expect(detailGets(fake).length).toBe(atExpiry + 1); // nothing more once it has expired
});

test('去支付 paid goes to the result page; a cancelled payment says the place is kept until 09:40', async () => {
  let polls = 0;
  const fake = installFakeBackend({
    'GET /api/v1/appointments/:id': () => fx.heldAppointment({}),
    'POST /api/v1/payments': () => ({ status: 201, body: fx.payment({}) }),
    'GET /api/v1/payments/:id': () => {
      polls += 1;
      return fx.payment(polls > 1 ? { status: 'paid', pay_params: null } : {});
    },
  });
  const pay = installFakePayment('cancel');
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  await tap(page, '#pay-button');
  expect(textOf(page.querySelector('.action-error'))).toBe('支付未完成，号源为您保留至 09:40');
  expect(navigations()).toEqual([]);

  pay.setBehaviour('success');
  await tap(page, '#pay-button');
  await advance(1000);
  const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/payments');
  expect(posts.map((r) => r.data)).toEqual([
    { order_type: 'appointment', order_id: '501', channel: 'wechat' },
    { order_type: 'appointment', order_id: '501', channel: 'wechat' },
  ]);
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'redirectTo', url: '/pages/booking/result/index?id=501&pay=paid' }),
  ]);
});

test('the payment and its refund show in Chinese: 已支付 ¥25.00 微信支付, 已退款 ¥25.00 with the time', async () => {
  let appt = fx.appointment({ payment: fx.paidPayment });
  installFakeBackend({ 'GET /api/v1/appointments/:id': () => appt });
  let page = await renderPage('pages/appointments/detail', { id: '501' });
  const card = textOf(page.querySelector('.payment-card'));
  expect(card).toContain('已支付 ¥25.00 微信支付');
  expect(card).toContain('支付时间');
  expect(page.querySelector('.refund')).toBeUndefined();

  appt = fx.appointment({ status: 'refunded', payment: refunded });
  page = await renderPage('pages/appointments/detail', { id: '501' });
  expect(textOf(page.querySelector('#status-tag'))).toBe('已退款');
  const refund = textOf(page.querySelector('.refund'));
  expect(refund).toContain(`已退款 ¥25.00 ${Number(fx.today.slice(5, 7))}月${Number(fx.today.slice(8))}日 10:02`);
  expect(refund).toContain('患者取消预约退款');

  appt = fx.appointment({ status: 'paid', payment: fx.paidPayment });
  page = await renderPage('pages/appointments/detail', { id: '501' });
  expect(textOf(page.querySelector('#status-tag'))).toBe('支付成功，确认中');
});

test('cancelling a paid booking says the fee goes back, then follows the refund until it has landed', async () => {
  let appt = fx.appointment({ payment: fx.paidPayment });
  const fake = installFakeBackend({
    'GET /api/v1/appointments/:id': () => appt,
    'POST /api/v1/appointments/:id/cancel': () => {
      appt = fx.appointment({ status: 'cancelled', payment: refunding });
      return appt;
    },
  });
  const asked = [];
  wx.showModal = (opts) => { asked.push(opts.content); opts.success({ confirm: true }); };
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  await tap(page, '#cancel-button');
  expect(asked[0]).toContain('已付的挂号费 ¥25.00 将原路退回');
  expect(textOf(page.querySelector('#status-tag'))).toBe('已取消');
  expect(textOf(page.querySelector('.refund'))).toContain('退款中 ¥25.00');
  expect(textOf(page.querySelector('.refund'))).toContain('款项将原路退回');

  await advance(2000);
  expect(textOf(page.querySelector('.refund'))).toContain('退款中');
  appt = fx.appointment({ status: 'refunded', payment: refunded });
  await advance(2000);
  expect(textOf(page.querySelector('#status-tag'))).toBe('已退款');
  expect(textOf(page.querySelector('.refund'))).toContain('已退款 ¥25.00');
  const looks = detailGets(fake).length;
  await advance(20000);
  expect(detailGets(fake)).toHaveLength(looks);
});

test('409 CONFIRMING on cancel shows the server’s message and reads the booking again', async () => {
  let appt = fx.heldAppointment({});
  const fake = installFakeBackend({
    'GET /api/v1/appointments/:id': () => appt,
    'POST /api/v1/appointments/:id/cancel': () => apiError(409, 'CONFIRMING', '支付成功，正在向医院确认挂号，请稍后再取消'),
  });
  wx.showModal = (opts) => opts.success({ confirm: true });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  appt = fx.heldAppointment({ status: 'paid', payment: fx.paidPayment });
  await tap(page, '#cancel-button');
  expect(textOf(page.querySelector('.action-error'))).toBe('支付成功，正在向医院确认挂号，请稍后再取消');
  expect(detailGets(fake)).toHaveLength(2);
  expect(textOf(page.querySelector('#status-tag'))).toBe('支付成功，确认中');
  expect(page.querySelector('#cancel-button')).toBeUndefined();
});

test('the list labels the new states: 待支付 with the hold time, 支付成功，确认中, refund progress', async () => {
  installFakeBackend({
    'GET /api/v1/appointments': () => ({
      items: [
        fx.heldAppointment({ id: 601 }),
        fx.appointment({ id: 602, status: 'paid', payment: fx.paidPayment }),
        fx.appointment({ id: 603, status: 'cancelled', payment: refunding }),
        fx.appointment({ id: 604, status: 'refunded', payment: refunded }),
      ],
    }),
  });
  const page = await renderPage('pages/appointments/list');
  const [held, paid, cancelled, done] = page.querySelectorAll('.appt').map((n) => textOf(n));
  expect(held).toContain('待支付');
  expect(held).toContain('请在 09:40 前完成支付');
  expect(paid).toContain('支付成功，确认中');
  expect(cancelled).toContain('已取消');
  expect(cancelled).toContain('退款中 ¥25.00');
  expect(done).toContain('已退款 ¥25.00');
  expect(page.querySelector('#tab-refunded')).toBeDefined();
});
