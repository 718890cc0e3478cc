const { renderPage, textOf, tap, resetWorld, navigations, flush } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);

// 11010519491231002X is the standard's own example of a valid number.
const VALID_ID = '11010519491231002X';
const BAD_CHECK_DIGIT = '110105194912310021';

async function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } });
  await flush();
}

test('the list shows masked ID and phone, relation and the default mark', async () => {
  installFakeBackend({ 'GET /api/v1/patients': () => fx.patients });
  const page = await renderPage('pages/patients/list');
  const [first, second] = page.querySelectorAll('.patient').map((n) => textOf(n));
  expect(first).toContain('王建国');
  expect(first).toContain('本人');
  expect(first).toContain('110101************');
  expect(first).toContain('138****5678');
  expect(second).toContain('配偶');
  expect(second).toContain('默认');
});

test('delete asks first and shows the server’s reason when it refuses', async () => {
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'DELETE /api/v1/patients/:id': () => apiError(409, 'PATIENT_HAS_APPOINTMENTS', '该就诊人还有未完成的预约，暂不能删除'),
  });
  const asked = [];
  let answer = false;
  wx.showModal = (opts) => { asked.push(opts.content); opts.success({ confirm: answer }); };
  const page = await renderPage('pages/patients/list');

  await tap(page, '#delete-11');
  expect(asked).toEqual(['确定删除就诊人“王建国”吗？']);
  expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);

  answer = true;
  await tap(page, '#delete-11');
  expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/api/v1/patients/11']);
  expect(textOf(page.querySelector('.action-error'))).toBe('该就诊人还有未完成的预约，暂不能删除');
});

test('a bad check digit is flagged inline as soon as the number is complete, and nothing is sent', async () => {
  const fake = installFakeBackend({ 'POST /api/v1/patients': () => ({ status: 201, body: { id: 20 } }) });
  const page = await renderPage('pages/patients/add');
  await type(page, '#input-name', '王小明');
  await type(page, '#input-id-number', BAD_CHECK_DIGIT);
  await type(page, '#input-phone', '13800138000');
  expect(textOf(page.querySelector('.error-id-number'))).toBe('身份证号校验位不正确，请核对后重新输入');

  await tap(page, '#submit-button');
  expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/patients')).toEqual([]);
});

test('a wrong birth date and a bad phone are flagged; a valid form is sent and goes back', async () => {
  const fake = installFakeBackend({ 'POST /api/v1/patients': () => ({ status: 201, body: { id: 20 } }) });
  const page = await renderPage('pages/patients/add');
  await type(page, '#input-id-number', '110105194902301234');
  expect(textOf(page.querySelector('.error-id-number'))).toBe('身份证号中的出生日期不正确');
  await type(page, '#input-phone', '12345678901');
  expect(textOf(page.querySelector('.error-phone'))).toBe('请输入11位手机号，以1开头');

  await type(page, '#input-name', '王小明');
  await type(page, '#input-id-number', VALID_ID.toLowerCase());
  await type(page, '#input-phone', '13800138000');
  expect(page.querySelector('.error-id-number')).toBeUndefined();
  await tap(page, '#submit-button');
  const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/patients');
  expect(posts).toHaveLength(1);
  expect(posts[0].data).toEqual({ name: '王小明', id_type: '01', id_number: VALID_ID, phone: '13800138000', relation: 'self' });
  expect(posts[0].headers['Idempotency-Key']).toBeTruthy();
  expect(navigations()).toEqual([expect.objectContaining({ kind: 'navigateBack' })]);
});

test('a server refusal is shown on the form', async () => {
  installFakeBackend({ 'POST /api/v1/patients': () => apiError(409, 'PATIENT_EXISTS', '该就诊人已添加') });
  const page = await renderPage('pages/patients/add');
  await type(page, '#input-name', '王小明');
  await type(page, '#input-id-number', VALID_ID);
  await type(page, '#input-phone', '13800138000');
  await tap(page, '#submit-button');
  expect(textOf(page.querySelector('.form-error'))).toBe('该就诊人已添加');
  expect(navigations()).toEqual([]);
});
