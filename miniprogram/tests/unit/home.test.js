const { renderPage, tap, resetWorld, navigations } = require('../helpers/page');

beforeEach(resetWorld);

test('home has the 电子健康卡 and 门诊缴费 entries', async () => {
  const home = await renderPage('pages/home/index');
  await tap(home, '#entry-healthcard');
  await tap(home, '#entry-bills');
  expect(navigations().map((n) => n.url)).toEqual(['/pages/healthcard/list/index', '/pages/billing/bills/index']);
});
