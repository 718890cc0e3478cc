const { renderPage, tap, resetWorld } = require('../helpers/page');
const { installFakeBackend } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);

function rootClass(page) {
  return page.dom.firstElementChild.className;
}

test('the home switch turns 长辈模式 on: the page gets the large-font class and it is remembered', async () => {
  const home = await renderPage('pages/home/index');
  expect(rootClass(home)).not.toContain('elder');

  await tap(home, '#elder-switch');
  expect(rootClass(home)).toContain('page-root--elder');
  expect(wx.getStorageSync('elderMode')).toBe(true);

  await tap(home, '#elder-switch');
  expect(rootClass(home)).not.toContain('elder');
  expect(wx.getStorageSync('elderMode')).toBe(false);
});

test('other pages apply the large-font class when the mode is on', async () => {
  installFakeBackend({ 'GET /api/v1/departments': () => fx.departments, 'GET /api/v1/patients': () => fx.patients });
  wx.setStorageSync('elderMode', true);
  const departments = await renderPage('pages/booking/departments');
  expect(rootClass(departments)).toContain('page-root--elder');
  const patients = await renderPage('pages/patients/list');
  expect(rootClass(patients)).toContain('page-root--elder');
});

test('the payment and fee pages apply it too', async () => {
  installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'GET /api/v1/bills': () => fx.bills,
    'GET /api/v1/bills/settlements/:id': () => fx.settlement({ status: 'settled', receipt_no: 'R1' }),
    'GET /api/v1/appointments/:id': () => fx.heldAppointment({}),
  });
  wx.setStorageSync('elderMode', true);
  for (const [dir, query] of [
    ['pages/billing/bills', {}],
    ['pages/billing/result', { id: 'S7001' }],
    ['pages/booking/result', { id: '501', pay: 'cancelled' }],
    ['pages/appointments/detail', { id: '501' }],
  ]) {
    const page = await renderPage(dir, query);
    expect(rootClass(page)).toContain('page-root--elder');
    page.detach();
  }
});
