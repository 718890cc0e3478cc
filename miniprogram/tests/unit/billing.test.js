/** 门诊缴费: choosing bills, paying them together, and the receipt page following the settlement. */
const { renderPage, textOf, tap, advance, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const { installFakePayment } = require('../helpers/fake-pay');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);
afterEach(() => jest.useRealTimers());

const posts = (fake, path) => fake.requests.filter((r) => r.method === 'POST' && r.path === path);
const billGets = (fake) => fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/bills');

function feesBackend(extra = {}) {
  return installFakeBackend(Object.assign({
    'GET /api/v1/patients': () => fx.patients,
    'GET /api/v1/health-cards': () => ({ items: [fx.healthCard({ patient_id: 11 })] }),
    'GET /api/v1/bills': (req) => (req.query.patient_id === '12' ? fx.bills : { items: [] }),
    'POST /api/v1/bills/settlements': () => ({ status: 201, body: fx.settlement({}) }),
    'POST /api/v1/payments': () => ({ status: 201, body: fx.payment({ order_type: 'bills', order_id: 'S7001', amount: 22620 }) }),
  }, extra));
}

test('the default patient’s bills come all chosen with the total; items unfold; unticking changes the total', async () => {
  const fake = feesBackend();
  const page = await renderPage('pages/billing/bills');
  expect(textOf(page.querySelector('.patient--selected'))).toContain('李秀英');
  expect(textOf(page.querySelector('#patient-11'))).toContain('电子健康卡');
  expect(textOf(page.querySelector('#patient-12'))).not.toContain('电子健康卡');
  expect(billGets(fake).map((r) => r.query)).toEqual([{ patient_id: '12' }]);

  const bills = page.querySelectorAll('.bill').map((n) => textOf(n));
  expect(bills[0]).toContain('西药费');
  expect(bills[0]).toContain('¥46.20');
  expect(bills[1]).toContain('¥180.00');
  expect(page.querySelectorAll('.bill--checked')).toHaveLength(2);
  expect(textOf(page.querySelector('#bills-total'))).toBe('¥226.20');
  expect(page.querySelector('.bill-item')).toBeUndefined();

  await tap(page, '#bill-toggle-B1001');
  expect(page.querySelectorAll('.bill-item').map((n) => textOf(n))).toEqual([
    '阿司匹林肠溶片 西药费 2盒¥16.20', '硝苯地平缓释片 西药费 1盒¥30.00',
  ]);

  await tap(page, '#bill-check-B1002');
  expect(textOf(page.querySelector('#bills-total'))).toBe('¥46.20');
  await tap(page, '#check-all');
  expect(textOf(page.querySelector('#bills-total'))).toBe('¥226.20');
  await tap(page, '#check-all');
  expect(textOf(page.querySelector('#bills-total'))).toBe('¥0.00');
});

test('paying makes one settlement order (with a key), pays it by WeChat and opens the receipt page', async () => {
  const fake = feesBackend();
  const pay = installFakePayment('success');
  const page = await renderPage('pages/billing/bills');
  await tap(page, '#pay-bills-button');
  const [order] = posts(fake, '/api/v1/bills/settlements');
  expect(order.data).toEqual({ patient_id: 12, bill_ids: ['B1001', 'B1002'] });
  expect(order.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  const [payment] = posts(fake, '/api/v1/payments');
  expect(payment.data).toEqual({ order_type: 'bills', order_id: 'S7001', channel: 'wechat' });
  expect(payment.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(pay.calls).toEqual([fx.payParams]);
  expect(navigations()).toEqual([
    expect.objectContaining({ kind: 'navigateTo', url: '/pages/billing/result/index?id=S7001' }),
  ]);
});

test('a cancelled payment keeps the order: paying again pays the same order', async () => {
  const fake = feesBackend();
  const pay = installFakePayment('cancel');
  const page = await renderPage('pages/billing/bills');
  await tap(page, '#pay-bills-button');
  expect(textOf(page.querySelector('.pay-message'))).toBe('您已取消支付，费用仍待缴纳，可重新支付');
  pay.setBehaviour('fail');
  await tap(page, '#pay-bills-button');
  expect(textOf(page.querySelector('.pay-message'))).toBe('支付未成功，请重试');
  pay.setBehaviour('success');
  await tap(page, '#pay-bills-button');
  expect(posts(fake, '/api/v1/bills/settlements')).toHaveLength(1);
  expect(posts(fake, '/api/v1/payments').map((r) => r.data.order_id)).toEqual(['S7001', 'S7001', 'S7001']);
  expect(navigations()).toEqual([expect.objectContaining({ url: '/pages/billing/result/index?id=S7001' })]);
});

test('BILL_NOT_PENDING shows the message and reads the list again; SETTLEMENT_EXPIRED makes a new order next time', async () => {
  let listed = fx.bills;
  const fake = feesBackend({
    'GET /api/v1/bills': () => listed,
    'POST /api/v1/bills/settlements': () => apiError(409, 'BILL_NOT_PENDING', '所选费用已缴纳或已变更，请刷新后重新选择'),
  });
  installFakePayment('success');
  const page = await renderPage('pages/billing/bills');
  listed = { items: [fx.bills.items[1]] };
  await tap(page, '#pay-bills-button');
  expect(textOf(page.querySelector('.pay-message'))).toBe('所选费用已缴纳或已变更，请刷新后重新选择');
  expect(billGets(fake)).toHaveLength(2);
  expect(page.querySelectorAll('.bill').map((n) => textOf(n))).toEqual([expect.stringContaining('检查费')]);
  expect(textOf(page.querySelector('#bills-total'))).toBe('¥180.00');

  fake.setRoute('POST /api/v1/bills/settlements', () => ({ status: 201, body: fx.settlement({}) }));
  fake.setRoute('POST /api/v1/payments', () => apiError(409, 'SETTLEMENT_EXPIRED', '缴费单已过期，请重新选择费用'));
  await tap(page, '#pay-bills-button');
  expect(textOf(page.querySelector('.pay-message'))).toBe('缴费单已过期，请重新选择费用');
  fake.setRoute('POST /api/v1/payments', () => ({ status: 201, body: fx.payment({ order_type: 'bills', order_id: 'S7001' }) }));
  await tap(page, '#pay-bills-button');
  expect(posts(fake, '/api/v1/bills/settlements').map((r) => r.data.bill_ids)).toEqual([
    ['B1001', 'B1002'], ['B1002'], ['B1002'],
  ]);
  expect(navigations()).toEqual([expect.objectContaining({ url: '/pages/billing/result/index?id=S7001' })]);
});

test('a patient with nothing to pay sees 暂无待缴费用', async () => {
  const fake = feesBackend();
  const page = await renderPage('pages/billing/bills');
  await tap(page, '#patient-11');
  expect(billGets(fake).map((r) => r.query.patient_id)).toEqual(['12', '11']);
  expect(textOf(page.querySelector('.bills-empty'))).toContain('暂无待缴费用');
  expect(page.querySelector('#pay-bills-button')).toBeUndefined();
});

test('the receipt page follows the order until settled: 收据号, the bills and the amount', async () => {
  jest.useFakeTimers({ now: new Date(`${fx.today}T09:30:00+08:00`) });
  let order = fx.settlement({ status: 'pending' });
  const fake = installFakeBackend({ 'GET /api/v1/bills/settlements/:id': () => order });
  const page = await renderPage('pages/billing/result', { id: 'S7001' });
  expect(textOf(page.querySelector('#result-title'))).toBe('正在确认缴费结果');

  order = fx.settlement({ status: 'paid' });
  await advance(1000);
  expect(textOf(page.querySelector('#result-title'))).toBe('正在确认缴费结果');
  order = fx.settlement({
    status: 'settled', receipt_no: 'R20261124000123', settled_at: `${fx.today}T09:31:05+08:00`,
    payment: { id: 9001, status: 'paid', channel: 'wechat', amount: 22620, paid_at: null, refunded: 0 },
  });
  await advance(1000);
  expect(textOf(page.querySelector('#result-title'))).toBe('缴费成功');
  expect(textOf(page.querySelector('#receipt-no'))).toBe('R20261124000123');
  expect(page.querySelectorAll('.receipt-bill').map((n) => textOf(n))).toEqual([
    '西药费心血管内科¥46.20', '检查费心血管内科¥180.00',
  ]);
  expect(textOf(page.querySelector('#receipt-amount'))).toBe('¥226.20');
  expect(textOf(page)).toContain('微信支付 ¥226.20');
  const looks = fake.requests.length;
  await advance(10000);
  expect(fake.requests).toHaveLength(looks);
});

test('a refused settlement shows the hospital’s reason and the refund as it lands', async () => {
  jest.useFakeTimers({ now: new Date(`${fx.today}T09:30:00+08:00`) });
  const payment = { id: 9001, status: 'refunding', channel: 'wechat', amount: 22620, paid_at: null, refunded: 0 };
  let order = fx.settlement({ status: 'cancelled', failure_reason: '所选费用已在医院缴纳，本次支付已自动退款', payment });
  installFakeBackend({ 'GET /api/v1/bills/settlements/:id': () => order });
  const page = await renderPage('pages/billing/result', { id: 'S7001' });
  expect(textOf(page.querySelector('#result-title'))).toBe('缴费未完成');
  expect(textOf(page.querySelector('.failure-reason'))).toBe('所选费用已在医院缴纳，本次支付已自动退款');
  expect(textOf(page.querySelector('.refund-text'))).toBe('退款处理中，¥226.20 将原路退回');

  order = fx.settlement({
    status: 'refunded', failure_reason: '所选费用已在医院缴纳，本次支付已自动退款',
    payment: Object.assign({}, payment, { status: 'refunded', refunded: 22620 }),
  });
  await advance(1000);
  expect(textOf(page.querySelector('.refund-text'))).toBe('已原路退款 ¥226.20');
});

test('a settlement still under way after the watch offers 刷新', async () => {
  jest.useFakeTimers({ now: new Date(`${fx.today}T09:30:00+08:00`) });
  let order = fx.settlement({ status: 'paid' });
  installFakeBackend({ 'GET /api/v1/bills/settlements/:id': () => order });
  const page = await renderPage('pages/billing/result', { id: 'S7001' });
  expect(page.querySelector('#refresh-button')).toBeUndefined();
  await advance(21000);
  expect(textOf(page)).toContain('医院处理较慢，请稍后刷新查看');
  order = fx.settlement({ status: 'settled', receipt_no: 'R1' });
  await tap(page, '#refresh-button');
  expect(textOf(page.querySelector('#result-title'))).toBe('缴费成功');
  expect(page.querySelector('#refresh-button')).toBeUndefined(); // done: nothing left to refresh
});
