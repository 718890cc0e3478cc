/** The pay step of booking (PAYMENT_MODE=online) and the result page's payment outcomes. */
const { renderPage, textOf, tap, advance, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const { installFakePayment } = require('../helpers/fake-pay');
const fx = require('../helpers/fixtures');

const NOW = new Date(`${fx.today}T09:30:00+08:00`);

beforeEach(() => {
  resetWorld();
  jest.useFakeTimers({ now: NOW });
  wx.setStorageSync('bookingDraft', {
    departmentCode: 'IM-CARD', departmentName: '心血管内科', schedule: fx.schedules.items[0], slot: fx.slots.items[0],
  });
});

afterEach(() => jest.useRealTimers());

function queryOf(url) {
  return Object.fromEntries(new URL(`http://x${url}`).searchParams.entries());
}

/** A backend where booking holds the place and the payment turns paid after `pendingPolls` looks. */
function onlineBackend({ pendingPolls = 2, appointmentAfter = fx.heldAppointment({}) } = {}) {
  let polls = 0;
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => ({ status: 201, body: fx.heldAppointment({}) }),
    'POST /api/v1/payments': () => ({ status: 201, body: fx.payment({}) }),
    'GET /api/v1/payments/:id': () => {
      polls += 1;
      return polls > pendingPolls ? fx.payment({ status: 'paid', pay_params: null, paid_at: NOW.toISOString() }) : fx.payment({});
    },
    'GET /api/v1/appointments/:id': () => appointmentAfter,
  });
  return fake;
}

const posts = (fake, path) => fake.requests.filter((r) => r.method === 'POST' && r.path === path);
const gets = (fake, prefix) => fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith(prefix));

test('a held booking is paid on the spot: payment created with a key, WeChat opened, paid seen by polling', async () => {
  const fake = onlineBackend({ pendingPolls: 2 });
  const pay = installFakePayment('success');
  const page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');

  const [created] = posts(fake, '/api/v1/payments');
  expect(created.data).toEqual({ order_type: 'appointment', order_id: '501', channel: 'wechat' });
  expect(created.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(pay.calls).toEqual([fx.payParams]);
  expect(textOf(page.querySelector('#confirm-button'))).toContain('正在支付');
  expect(navigations()).toEqual([]);

  await advance(1000);
  await advance(1000);
  expect(gets(fake, '/api/v1/payments/9001')).toHaveLength(3);
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'redirectTo', url: '/pages/booking/result/index?id=501&pay=paid' }),
  ]);
});

test('at the hospital (confirmed at once) nothing is paid in the app', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => ({ status: 201, body: fx.appointment({}) }),
  });
  const pay = installFakePayment('success');
  const page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  expect(posts(fake, '/api/v1/payments')).toEqual([]);
  expect(pay.calls).toEqual([]);
  expect(navigations()).toEqual([expect.objectContaining({ url: '/pages/booking/result/index?id=501' })]);
});

test('the payer closes the sheet: the result says not paid, the place is kept until 09:40, 重新支付 pays', async () => {
  const fake = onlineBackend({ pendingPolls: 0 });
  const pay = installFakePayment('cancel');
  const confirm = await renderPage('pages/booking/confirm', {});
  await tap(confirm, '#confirm-button');
  const [nav] = navigations();
  expect(queryOf(nav.url)).toEqual({ id: '501', pay: 'cancelled' });
  expect(gets(fake, '/api/v1/payments/')).toEqual([]);

  const result = await renderPage('pages/booking/result', queryOf(nav.url));
  expect(textOf(result.querySelector('#result-title'))).toBe('支付未完成');
  expect(textOf(result)).toContain('您已取消支付');
  expect(textOf(result.querySelector('.hold-notice'))).toContain('号源为您保留至 09:40');

  pay.setBehaviour('success');
  let appointmentNow = fx.heldAppointment({ status: 'paid', payment: fx.paidPayment });
  fake.setRoute('GET /api/v1/appointments/:id', () => appointmentNow);
  await tap(result, '#pay-again-button');
  expect(pay.calls).toHaveLength(2);
  expect(posts(fake, '/api/v1/payments')).toHaveLength(2);
  expect(textOf(result.querySelector('#result-title'))).toBe('支付成功');
  expect(textOf(result)).toContain('正在向医院确认挂号');
  expect(textOf(result.querySelector('.payment-summary'))).toBe('已支付 ¥25.00 微信支付');

  appointmentNow = fx.appointment({ payment: fx.paidPayment, visit_no: 8 });
  await advance(1500);
  expect(textOf(result.querySelector('#result-title'))).toBe('预约成功');
  expect(textOf(result.querySelector('.visit-no'))).toBe('就诊序号 8');
  expect(textOf(result)).not.toContain('正在向医院确认挂号');
});

test('a failed payment says so; the server never hearing of the money ends the wait after about 15 s', async () => {
  const fake = onlineBackend({ pendingPolls: 1000 });
  const pay = installFakePayment('fail');
  let page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  expect(queryOf(navigations()[0].url)).toEqual({ id: '501', pay: 'failed' });
  const failed = await renderPage('pages/booking/result', queryOf(navigations()[0].url));
  expect(textOf(failed)).toContain('支付未成功，请重试');
  expect(failed.querySelector('#pay-again-button')).toBeDefined();

  resetWorld();
  pay.setBehaviour('success');
  page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  await advance(14000);
  expect(navigations()).toEqual([]);
  await advance(2000);
  expect(queryOf(navigations()[0].url)).toEqual({ id: '501', pay: 'confirming' });
  const looks = gets(fake, '/api/v1/payments/9001').length;
  expect(looks).toBeGreaterThanOrEqual(14);
  expect(looks).toBeLessThanOrEqual(16);
});

test('PAYMENT_UNAVAILABLE when starting to pay: the result page shows the server’s message and can pay again', async () => {
  const fake = onlineBackend({ pendingPolls: 0 });
  fake.setRoute('POST /api/v1/payments', () => apiError(503, 'PAYMENT_UNAVAILABLE', '支付服务暂时无法连接，请稍后再试'));
  const pay = installFakePayment('success');
  const confirm = await renderPage('pages/booking/confirm', {});
  await tap(confirm, '#confirm-button');
  expect(pay.calls).toEqual([]);
  const query = queryOf(navigations()[0].url);
  expect(query).toMatchObject({ id: '501', pay: 'error', code: 'PAYMENT_UNAVAILABLE' });

  const result = await renderPage('pages/booking/result', query);
  expect(textOf(result.querySelector('.pay-message'))).toBe('支付服务暂时无法连接，请稍后再试');
  expect(textOf(result.querySelector('.hold-notice'))).toContain('09:40');

  fake.setRoute('POST /api/v1/payments', () => apiError(409, 'PAYMENT_IN_PROGRESS', '该订单正在支付，请稍候'));
  await tap(result, '#pay-again-button');
  expect(textOf(result.querySelector('.pay-message'))).toBe('该订单正在支付，请稍候');
  expect(textOf(result.querySelector('#result-title'))).toBe('支付未完成');
});

test('HOLD_EXPIRED on 重新支付: the message shows and the page reads the booking again (released)', async () => {
  const fake = onlineBackend({ pendingPolls: 0 });
  installFakePayment('success');
  const result = await renderPage('pages/booking/result', { id: '501', pay: 'cancelled' });
  fake.setRoute('POST /api/v1/payments', () => apiError(409, 'HOLD_EXPIRED', '支付时间已过，号源已释放，请重新预约'));
  fake.setRoute('GET /api/v1/appointments/:id', () => fx.heldAppointment({ status: 'expired' }));
  await tap(result, '#pay-again-button');
  expect(textOf(result.querySelector('#result-title'))).toBe('支付超时，号源已释放');
  expect(result.querySelector('#pay-again-button')).toBeUndefined();
  await tap(result, '#book-again-button');
  expect(navigations()).toEqual([expect.objectContaining({ kind: 'redirectTo', url: '/pages/booking/departments/index' })]);
});

test('ORDER_ALREADY_PAID counts as paid: the result page follows the confirmation', async () => {
  const fake = onlineBackend({ pendingPolls: 0 });
  fake.setRoute('POST /api/v1/payments', () => apiError(409, 'ORDER_ALREADY_PAID', '该订单已支付'));
  const pay = installFakePayment('success');
  const confirm = await renderPage('pages/booking/confirm', {});
  await tap(confirm, '#confirm-button');
  expect(pay.calls).toEqual([]);
  expect(queryOf(navigations()[0].url)).toEqual({ id: '501', pay: 'paid' });
});

test('the hospital slow to confirm: after the polls the result page says to look later', async () => {
  const fake = onlineBackend({ appointmentAfter: fx.heldAppointment({ status: 'paid', payment: fx.paidPayment }) });
  const result = await renderPage('pages/booking/result', { id: '501', pay: 'paid' });
  expect(textOf(result.querySelector('#result-title'))).toBe('支付成功');
  await advance(13000);
  expect(textOf(result)).toContain('医院确认较慢，请稍后在“我的预约”中查看结果');
  const looks = gets(fake, '/api/v1/appointments/501').length;
  expect(looks).toBeGreaterThanOrEqual(8);
  expect(looks).toBeLessThanOrEqual(10);
  await advance(10000);
  expect(gets(fake, '/api/v1/appointments/501')).toHaveLength(looks);
});

test('the hospital refusing a paid booking: the result says so with the refund', async () => {
  installFakeBackend({
    'GET /api/v1/appointments/:id': () => fx.heldAppointment({
      status: 'cancelled',
      payment: Object.assign({}, fx.paidPayment, {
        status: 'refunding', refunds: [{ amount: 2500, status: 'processing', reason: '医院未能确认挂号，已自动退款', succeeded_at: null }],
      }),
    }),
  });
  const result = await renderPage('pages/booking/result', { id: '501', pay: 'paid' });
  expect(textOf(result.querySelector('#result-title'))).toBe('医院未能确认挂号');
  expect(textOf(result.querySelector('.refund'))).toBe('退款中 ¥25.00');
});

test('booking confirm marks patients with a 电子健康卡 and, with no default, preselects the first with a card', async () => {
  const noDefault = { items: fx.patients.items.map((p) => Object.assign({}, p, { is_default: false })) };
  installFakeBackend({
    'GET /api/v1/patients': () => noDefault,
    'GET /api/v1/health-cards': () => ({ items: [fx.healthCard({ id: 302, patient_id: 12 })] }),
  });
  const page = await renderPage('pages/booking/confirm', {});
  const rows = page.querySelectorAll('.patient');
  expect(textOf(rows[0])).not.toContain('电子健康卡');
  expect(textOf(rows[1])).toContain('电子健康卡');
  expect(textOf(page.querySelector('.patient--selected'))).toContain('李秀英');
});
