const { renderPage, textOf, tap, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);

test('shows top-level departments on the left and the first one’s clinics with intro on the right', async () => {
  installFakeBackend({ 'GET /api/v1/departments': () => fx.departments });
  const page = await renderPage('pages/booking/departments');

  const parents = page.querySelectorAll('.dept-parent').map((n) => textOf(n));
  expect(parents).toEqual(['内科', '外科']);
  const children = textOf(page.querySelector('.dept-children'));
  expect(children).toContain('心血管内科');
  expect(children).toContain('高血压、冠心病、心律失常');
  expect(children).not.toContain('骨科');
  expect(page.querySelectorAll('.dept-parent')[0].dom.className).toContain('dept-parent--active');
});

test('tapping another department shows its clinics; tapping a clinic opens its schedules', async () => {
  installFakeBackend({ 'GET /api/v1/departments': () => fx.departments });
  const page = await renderPage('pages/booking/departments');

  page.querySelectorAll('.dept-parent')[1].dispatchEvent('tap');
  await new Promise((r) => setTimeout(r, 10));
  const children = textOf(page.querySelector('.dept-children'));
  expect(children).toContain('骨科');
  expect(children).not.toContain('心血管内科');

  await tap(page, '.dept-child');
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'navigateTo', url: '/pages/booking/schedules/index?department=SURG-ORTH' }),
  ]);
});

test('a failed load shows the server’s message and a retry button', async () => {
  installFakeBackend({ 'GET /api/v1/departments': () => apiError(503, 'HIS_UNAVAILABLE', '医院系统暂时无法连接，请稍后再试') });
  const page = await renderPage('pages/booking/departments');
  expect(textOf(page)).toContain('医院系统暂时无法连接，请稍后再试');
  expect(textOf(page)).toContain('重新加载');
});
