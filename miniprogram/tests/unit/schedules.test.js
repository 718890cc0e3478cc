const { renderPage, textOf, tap, resetWorld, navigations, flush } = require('../helpers/page');
const { installFakeBackend } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);

function backend() {
  return installFakeBackend({
    'GET /api/v1/schedules': () => fx.schedules,
    'GET /api/v1/doctors': () => ({ items: [{ code: 'D001', name: '张明', title: '主任医师', specialty: '高血压' }] }),
  });
}

function cards(page) {
  return page.querySelectorAll('.doctor').map((n) => textOf(n));
}

test('shows an eight-day strip and asks for that range', async () => {
  const fake = backend();
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  const days = page.querySelectorAll('.date-item').map((n) => textOf(n));
  expect(days).toHaveLength(8);
  expect(days[0]).toContain('今天');
  expect(days[1]).toContain('明天');
  const asked = fake.requests.find((r) => r.path === '/api/v1/schedules');
  expect(asked.query).toEqual(expect.objectContaining({ department: 'IM-CARD', date_from: fx.today }));
});

test('morning shows each doctor with title, fee in yuan, numbers left and 约满', async () => {
  backend();
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  const [zhang, li] = cards(page);
  expect(zhang).toContain('张明');
  expect(zhang).toContain('主任医师');
  expect(zhang).toContain('¥25.00');
  expect(zhang).toContain('余7号');
  expect(zhang).toContain('擅长：高血压');
  expect(li).toContain('李华');
  expect(li).toContain('¥18.00');
  expect(li).toContain('约满');
  expect(cards(page).join()).not.toContain('赵强');
});

test('another day shows 未放号 with its release time; afternoon has its own doctors', async () => {
  backend();
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  page.querySelectorAll('.date-item')[1].dispatchEvent('tap');
  await flush();
  const [wang] = cards(page);
  expect(wang).toContain('王芳');
  expect(wang).toContain('未放号');
  expect(wang).toMatch(/\d+月\d+日 15:00 放号/);

  page.querySelectorAll('.date-item')[0].dispatchEvent('tap');
  await flush();
  page.querySelectorAll('.period')[1].dispatchEvent('tap');
  await flush();
  expect(cards(page)).toEqual([expect.stringContaining('赵强')]);
});

test('a full schedule cannot be chosen; an open one opens its slots', async () => {
  backend();
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  page.querySelectorAll('.doctor')[1].dispatchEvent('tap');
  await flush();
  expect(navigations()).toEqual([]);
  await tap(page, '.doctor');
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'navigateTo', url: '/pages/booking/slots/index?schedule_id=101' }),
  ]);
});

test('says so when the hospital system was unreachable and the numbers are from earlier', async () => {
  installFakeBackend({
    'GET /api/v1/schedules': () => Object.assign({}, fx.schedules, { stale: true }),
    'GET /api/v1/doctors': () => ({ items: [] }),
  });
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  expect(textOf(page.querySelector('.stale-notice'))).toContain('医院系统暂时无法连接');
});

test('fresh numbers show no such notice', async () => {
  backend();
  const page = await renderPage('pages/booking/schedules', { department: 'IM-CARD' });
  expect(page.querySelector('.stale-notice')).toBeFalsy();
});
