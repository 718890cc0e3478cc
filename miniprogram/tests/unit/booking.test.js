const { renderPage, textOf, domOf, tap, resetWorld, navigations, flush } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(() => {
  resetWorld();
  wx.setStorageSync('bookingDraft', {
    departmentCode: 'IM-CARD',
    departmentName: '心血管内科',
    schedule: fx.schedules.items[0],
    slot: fx.slots.items[0],
  });
});

function confirmButton(page) {
  return page.querySelector('#confirm-button');
}

test('slots page lists 30-minute slots with what is left; a full slot cannot be chosen', async () => {
  installFakeBackend({ 'GET /api/v1/schedules/:id/slots': () => fx.slots });
  const page = await renderPage('pages/booking/slots', { schedule_id: '101' });
  const slots = page.querySelectorAll('.slot').map((n) => textOf(n));
  expect(slots).toEqual(['08:00-08:30余2号', '08:30-09:00约满']);
  expect(textOf(page)).toContain('张明');
  expect(textOf(page)).toContain('¥25.00');

  page.querySelectorAll('.slot')[1].dispatchEvent('tap');
  await flush();
  expect(navigations()).toEqual([]);
  await tap(page, '.slot');
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'navigateTo', url: '/pages/booking/confirm/index?slot_id=1001' }),
  ]);
});

test('slots that have ended show 已过 and cannot be chosen; with none left the page says so', async () => {
  const passed = fx.slots.items.map((s) => Object.assign({}, s, { status: 'passed' }));
  installFakeBackend({ 'GET /api/v1/schedules/:id/slots': () => ({ items: passed }) });
  const page = await renderPage('pages/booking/slots', { schedule_id: '101' });
  expect(page.querySelectorAll('.slot').map((n) => textOf(n))).toEqual(['08:00-08:30已过', '08:30-09:00已过']);
  expect(textOf(page)).toContain('该时段已约满或已结束');
  await tap(page, '.slot');
  expect(navigations()).toEqual([]);
});

test('confirm preselects the default patient, shows the fee and books with an Idempotency-Key', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => ({ status: 201, body: fx.appointment({}) }),
  });
  const page = await renderPage('pages/booking/confirm', { slot_id: '1001' });
  expect(textOf(page)).toContain('¥25.00');
  expect(textOf(page)).toContain('08:00-08:30');
  const selected = page.querySelector('.patient--selected');
  expect(textOf(selected)).toContain('李秀英');

  await tap(page, '#confirm-button');
  const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/appointments');
  expect(posts).toHaveLength(1);
  expect(posts[0].headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(posts[0].data).toEqual({ patient_id: 12, schedule_id: 101, slot_id: 1001 });
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'redirectTo', url: '/pages/booking/result/index?id=501' }),
  ]);
});

test('the button is disabled while booking, and a lost answer is retried with the same key', async () => {
  let release;
  let calls = 0;
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => {
      calls += 1;
      return calls === 1 ? 'NETWORK_DOWN' : { status: 201, body: fx.appointment({}) };
    },
  });
  const page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  expect(textOf(page)).toContain('不会重复挂号');
  expect(navigations()).toEqual([]);

  // Hold the second answer to look at the button meanwhile.
  const gate = new Promise((r) => { release = r; });
  const realRequest = wx.request;
  wx.request = (opts) => gate.then(() => realRequest(opts));
  tap(page, '#confirm-button');
  await flush();
  expect(textOf(confirmButton(page))).toContain('正在预约');
  expect(domOf(confirmButton(page)).className).toContain('t-button--disabled');
  release();
  await flush(10);

  const keys = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/appointments')
    .map((r) => r.headers['Idempotency-Key']);
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBe(keys[1]);
  expect(navigations()).toEqual([expect.objectContaining({ url: '/pages/booking/result/index?id=501' })]);
});

test('choosing another patient after a definite answer uses a new key', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => apiError(429, 'RATE_LIMITED', '操作太频繁，请稍后再试'),
  });
  const page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  expect(textOf(page)).toContain('操作太频繁，请稍后再试');
  await tap(page, '.patient');
  await tap(page, '#confirm-button');
  const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/appointments');
  expect(posts.map((r) => r.data.patient_id)).toEqual([12, 11]);
  expect(posts[0].headers['Idempotency-Key']).not.toBe(posts[1].headers['Idempotency-Key']);
});

test('SLOT_FULL sends the patient to the result page with the server’s message, which it shows', async () => {
  installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'POST /api/v1/appointments': () => apiError(409, 'SLOT_FULL', '该时段号源已约满'),
  });
  const page = await renderPage('pages/booking/confirm', {});
  await tap(page, '#confirm-button');
  const [nav] = navigations();
  expect(nav.kind).toBe('redirectTo');
  const query = Object.fromEntries(new URL(`http://x${nav.url}`).searchParams.entries());
  expect(query.code).toBe('SLOT_FULL');

  const result = await renderPage('pages/booking/result', query);
  expect(textOf(result)).toContain('预约未成功');
  expect(textOf(result)).toContain('该时段号源已约满');
  expect(textOf(result)).toContain('重新选择时间');
});

test('the result page shows success with the visit number', async () => {
  installFakeBackend({ 'GET /api/v1/appointments/:id': () => fx.appointment({ visit_no: 8 }) });
  const page = await renderPage('pages/booking/result', { id: '501' });
  const text = textOf(page);
  expect(text).toContain('预约成功');
  expect(textOf(page.querySelector('.visit-no'))).toBe('就诊序号 8');
  expect(text).toContain('李秀英');
  expect(text).toContain('¥25.00');
});
