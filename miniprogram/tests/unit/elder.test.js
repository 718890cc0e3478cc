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
