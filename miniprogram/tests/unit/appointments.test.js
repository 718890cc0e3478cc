const { renderPage, textOf, tap, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);

test('my appointments lists by status tab and opens a detail', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/appointments': (req) => (req.query.status === 'cancelled'
      ? { items: [fx.appointment({ id: 502, status: 'cancelled' })] }
      : { items: [fx.appointment({})] }),
  });
  const page = await renderPage('pages/appointments/list');
  expect(textOf(page.querySelector('.appt'))).toContain('张明');
  expect(textOf(page.querySelector('.appt'))).toContain('已预约');

  await tap(page, page.querySelectorAll('.tab')[4]);
  expect(fake.requests.map((r) => r.query.status).filter(Boolean)).toEqual(['cancelled']);
  expect(textOf(page.querySelector('.appt'))).toContain('已取消');

  await tap(page, '.appt');
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'navigateTo', url: '/pages/appointments/detail/index?id=502' }),
  ]);
});

test('cancel asks to confirm, then shows the cancelled state', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/appointments/:id': () => fx.appointment({}),
    'POST /api/v1/appointments/:id/cancel': () => fx.appointment({ status: 'cancelled' }),
  });
  let answer = false;
  wx.showModal = (opts) => opts.success({ confirm: answer });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  expect(textOf(page.querySelector('#status-tag'))).toBe('已预约');

  await tap(page, '#cancel-button');
  expect(fake.requests.filter((r) => r.path.endsWith('/cancel'))).toEqual([]);

  answer = true;
  await tap(page, '#cancel-button');
  expect(fake.requests.filter((r) => r.path.endsWith('/cancel'))).toHaveLength(1);
  expect(textOf(page.querySelector('#status-tag'))).toBe('已取消');
  expect(page.querySelector('#cancel-button')).toBeUndefined();
});

test('a refused cancel shows the server’s message', async () => {
  installFakeBackend({
    'GET /api/v1/appointments/:id': () => fx.appointment({}),
    'POST /api/v1/appointments/:id/cancel': () => apiError(409, 'CANCEL_TOO_LATE', '已过取消截止时间，无法取消'),
  });
  wx.showModal = (opts) => opts.success({ confirm: true });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  await tap(page, '#cancel-button');
  expect(textOf(page.querySelector('.action-error'))).toBe('已过取消截止时间，无法取消');
});

test('签到 shows the queue: current number, people ahead and the expected wait', async () => {
  installFakeBackend({
    'GET /api/v1/appointments/:id': () => fx.appointment({}),
    'POST /api/v1/appointments/:id/check-in': () => fx.appointment({ status: 'checked_in', queue_no: 15 }),
    'GET /api/v1/appointments/:id/queue': () => ({ queue_no: 15, current_no: 12, ahead: 3, estimated_wait_minutes: 20 }),
  });
  const page = await renderPage('pages/appointments/detail', { id: '501' });
  await tap(page, '#checkin-button');
  const queue = textOf(page.querySelector('.queue'));
  expect(queue).toContain('当前叫号12');
  expect(queue).toContain('我的号15');
  expect(queue).toContain('前面还有 3 人');
  expect(queue).toContain('预计等待：约20分钟');
  expect(textOf(page.querySelector('#status-tag'))).toBe('已签到');
});
