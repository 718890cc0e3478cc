/**
 * Paying in the mini-program for real: a hospital that takes the fee online. The pages create the
 * payment, open the cashier (wx.requestPayment, played by the sandbox WeChat Pay with the page's own
 * parameters and paySign), and follow the booking to confirmed; cancelling refunds the fee. Then
 * outpatient fees: list, choose, pay, receipt. Real BFF, real WeChat Pay v3 SDK, simulators on loopback.
 */
const { renderPage, textOf, tap, resetWorld } = require('../helpers/page');
const { installLiveWx } = require('../helpers/live-wx');
const { installSandboxPayment } = require('../helpers/sandbox-pay');
const flow = require('../helpers/e2e-flow');

let payer;

beforeAll(() => {
  resetWorld();
  installLiveWx(flow.stackUrl('bff_online'), `e2e-pay-${Date.now()}`);
  payer = installSandboxPayment(flow.stackUrl('wechatpay'));
  wx.showModal = (opts) => opts.success({ confirm: true });
});

test('a patient books, pays by WeChat Pay, is confirmed, cancels and is refunded', async () => {
  const { signIn } = require('../../services/auth');
  await signIn();
  await flow.addPatient('支付患者', 'pay');

  const confirm = await flow.walkToConfirm();
  await flow.settle(confirm, (p) => !!p.querySelector('.patient--selected'));
  await tap(confirm, '#confirm-button');
  await flow.settle(confirm, () => flow.lastNavigation().kind === 'redirectTo');
  const resultQuery = flow.queryOf(flow.lastNavigation().url);
  expect(resultQuery.pay).toBe('paid');
  expect(payer.calls).toHaveLength(1);

  const result = await renderPage('pages/booking/result', resultQuery);
  await flow.settle(result, (p) => textOf(p.querySelector('#result-title')) === '预约成功');
  expect(textOf(result)).toContain('支付患者');

  const detail = await renderPage('pages/appointments/detail', { id: resultQuery.id });
  await flow.settle(detail, (p) => !!p.querySelector('.payment-summary'));
  expect(textOf(detail.querySelector('.payment-summary'))).toMatch(/已支付.*¥\d+\.\d{2}/);
  await tap(detail, '#cancel-button');
  await flow.settle(detail, (p) => textOf(p).includes('已退款'));
  expect(textOf(detail.querySelector('#status-tag'))).toContain('已退款');
  expect(textOf(detail.querySelector('.refund'))).toMatch(/已退款.*¥\d+\.\d{2}/);
});

test('a patient pays pending outpatient fees and gets a receipt', async () => {
  const { listPatients } = require('../../services/patients');
  const patient = (await listPatients()).find((p) => p.name === '支付患者');
  await flow.postJson(flow.stackUrl('his'), '/_control/bills', { his_patient_id: patient.his_patient_id, title: '检验：血常规', amount: 2500 });
  await flow.postJson(flow.stackUrl('his'), '/_control/bills', { his_patient_id: patient.his_patient_id, title: '处方（西药）', amount: 3650 });

  const bills = await renderPage('pages/billing/bills');
  await flow.settle(bills, (p) => p.querySelectorAll('.bill').length === 2);
  expect(textOf(bills.querySelector('#bills-total'))).toContain('¥61.50');
  await tap(bills, '#pay-bills-button');
  await flow.settle(bills, () => (flow.lastNavigation().url || '').startsWith('/pages/billing/result'));

  const receipt = await renderPage('pages/billing/result', flow.queryOf(flow.lastNavigation().url));
  await flow.settle(receipt, (p) => textOf(p.querySelector('#result-title')) === '缴费成功');
  expect(textOf(receipt.querySelector('#receipt-no'))).toMatch(/MZ\d+/);
  expect(textOf(receipt.querySelector('#receipt-amount'))).toContain('¥61.50');
});
