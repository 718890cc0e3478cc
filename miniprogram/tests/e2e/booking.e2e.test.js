/**
 * The whole booking flow through the REAL page code against a live BFF (paid at the hospital):
 * login → add patient → departments → schedules → slot → confirm → result → my appointments
 * → detail → cancel. The stack is started by global-setup.js.
 */
const { renderPage, textOf, tap, resetWorld } = require('../helpers/page');
const { installLiveWx } = require('../helpers/live-wx');
const flow = require('../helpers/e2e-flow');

beforeAll(() => {
  resetWorld();
  installLiveWx(flow.stackUrl('bff'), `e2e-book-${Date.now()}`);
});

test('a patient books and cancels an appointment end to end', async () => {
  const { signIn } = require('../../services/auth');
  expect((await signIn()).token).toBeTruthy();
  await flow.addPatient('测试患者', 'book');

  const confirm = await flow.walkToConfirm();
  await flow.settle(confirm, (p) => !!p.querySelector('.patient--selected'));
  expect(textOf(confirm.querySelector('.patient--selected'))).toContain('测试患者');
  expect(textOf(confirm)).toMatch(/¥\d+\.\d{2}/);
  await tap(confirm, '#confirm-button');
  await flow.settle(confirm, () => flow.lastNavigation().kind === 'redirectTo');
  const resultQuery = flow.queryOf(flow.lastNavigation().url);
  expect(resultQuery.message).toBeUndefined();
  expect(resultQuery.id).toBeTruthy();

  const result = await renderPage('pages/booking/result', resultQuery);
  await flow.settle(result, (p) => textOf(p).includes('测试患者'));
  expect(textOf(result)).toContain('预约成功');

  const list = await renderPage('pages/appointments/list');
  await flow.settle(list, (p) => p.querySelectorAll('.appt').length > 0);
  expect(textOf(list)).toContain('测试患者');

  wx.showModal = (opts) => opts.success({ confirm: true });
  const detail = await renderPage('pages/appointments/detail', { id: resultQuery.id });
  await flow.settle(detail, (p) => !!p.querySelector('#cancel-button'));
  await tap(detail, '#cancel-button');
  await flow.settle(detail, (p) => /已取消|已退款/.test(textOf(p.querySelector('#status-tag'))) || !!p.querySelector('.action-error'));
  expect(detail.querySelector('.action-error')).toBeUndefined();
  expect(textOf(detail.querySelector('#status-tag'))).toMatch(/已取消|已退款/);
});
