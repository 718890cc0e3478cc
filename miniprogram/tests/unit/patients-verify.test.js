/**
 * 添加就诊人 when the hospital already knows the person: the page asks for the SMS code sent to
 * the phone the hospital holds, with 重新发送 after 60 s and a clear message for every refusal.
 */
const { renderPage, textOf, tap, resetWorld, navigations, flush, advance } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');

beforeEach(resetWorld);
afterEach(() => jest.useRealTimers());

const VALID_ID = '11010519491231002X';
const STARTED = { status: 202, body: { verification_id: 'v-abc', phone_masked: '138****0000' } };
const PATIENT = { status: 201, body: { id: 21, name: '王建国' } };

async function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } });
  await flush();
}

async function submitForm(page) {
  await type(page, '#input-name', '王建国');
  await type(page, '#input-id-number', VALID_ID);
  await type(page, '#input-phone', '13912345678');
  await tap(page, '#submit-button');
}

function posts(fake, path) {
  return fake.requests.filter((r) => r.method === 'POST' && r.path === path);
}

test('a known person gets the code step: where the code went, then the right code adds and goes back', async () => {
  jest.useFakeTimers();
  const fake = installFakeBackend({
    'POST /api/v1/patients': () => STARTED,
    'POST /api/v1/patients/verify': () => PATIENT,
  });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  expect(textOf(page.querySelector('.verify-sent'))).toBe('验证码已发送至 138****0000');
  expect(page.querySelector('#input-name')).toBeUndefined();
  expect(navigations()).toEqual([]);

  await type(page, '#input-code', '12345');
  await tap(page, '#verify-button');
  expect(textOf(page.querySelector('.error-code'))).toBe('请输入6位数字验证码');
  expect(posts(fake, '/api/v1/patients/verify')).toEqual([]);

  await type(page, '#input-code', '123456');
  await tap(page, '#verify-button');
  const sent = posts(fake, '/api/v1/patients/verify');
  expect(sent.map((r) => r.data)).toEqual([{ verification_id: 'v-abc', code: '123456' }]);
  expect(sent[0].headers['Idempotency-Key']).toBeTruthy();
  expect(navigations()).toEqual([expect.objectContaining({ kind: 'navigateBack' })]);
});

test('重新发送 waits 60 seconds, counting down, then sends once', async () => {
  jest.useFakeTimers();
  const fake = installFakeBackend({
    'POST /api/v1/patients': () => STARTED,
    'POST /api/v1/patients/verify/resend': () => ({ status: 202, body: STARTED.body }),
  });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  expect(textOf(page.querySelector('#resend-button'))).toBe('重新发送（60s）');
  await tap(page, '#resend-button');
  expect(posts(fake, '/api/v1/patients/verify/resend')).toEqual([]);

  await advance(59000);
  expect(textOf(page.querySelector('#resend-button'))).toBe('重新发送（1s）');
  await advance(1000);
  expect(textOf(page.querySelector('#resend-button'))).toBe('重新发送');
  await tap(page, '#resend-button');
  expect(posts(fake, '/api/v1/patients/verify/resend').map((r) => r.data)).toEqual([{ verification_id: 'v-abc' }]);
  expect(textOf(page.querySelector('#resend-button'))).toBe('重新发送（60s）');
});

test('a resend the server finds too early restarts the countdown it gives', async () => {
  jest.useFakeTimers();
  installFakeBackend({
    'POST /api/v1/patients': () => STARTED,
    'POST /api/v1/patients/verify/resend': () => apiError(429, 'RATE_LIMITED', '请20秒后再获取验证码', { retry_after: 20 }),
  });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  await advance(60000);
  await tap(page, '#resend-button');
  expect(textOf(page.querySelector('.error-code'))).toBe('发送太频繁，请20秒后再试');
  expect(textOf(page.querySelector('#resend-button'))).toBe('重新发送（20s）');
});

test('a wrong code says how many tries are left; an expired one says to resend', async () => {
  jest.useFakeTimers();
  let answer = apiError(422, 'VERIFICATION_CODE_INVALID', '验证码不正确', { attempts_left: 3 });
  installFakeBackend({ 'POST /api/v1/patients': () => STARTED, 'POST /api/v1/patients/verify': () => answer });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  await type(page, '#input-code', '000000');
  await tap(page, '#verify-button');
  expect(textOf(page.querySelector('.error-code'))).toBe('验证码不正确，还可以再试3次');

  answer = apiError(410, 'VERIFICATION_EXPIRED', '验证码已过期');
  await type(page, '#input-code', '111111');
  await tap(page, '#verify-button');
  expect(textOf(page.querySelector('.error-code'))).toBe('验证码已过期，请点击“重新发送”获取新的验证码');
  expect(navigations()).toEqual([]);
});

test('tries used up or a lost verification go back to the form with the reason', async () => {
  jest.useFakeTimers();
  let answer = apiError(429, 'RATE_LIMITED', '验证码错误次数过多', { reason: 'spent' });
  installFakeBackend({ 'POST /api/v1/patients': () => STARTED, 'POST /api/v1/patients/verify': () => answer });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  await type(page, '#input-code', '000000');
  await tap(page, '#verify-button');
  expect(page.querySelector('#input-code')).toBeUndefined();
  expect(textOf(page.querySelector('.form-error'))).toBe('验证码错误次数过多，请重新提交就诊人信息');

  answer = apiError(404, 'VERIFICATION_NOT_FOUND', '验证信息不存在');
  await tap(page, '#submit-button');
  await type(page, '#input-code', '000000');
  await tap(page, '#verify-button');
  expect(textOf(page.querySelector('.form-error'))).toBe('验证已失效，请重新提交就诊人信息');
});

test('a name that does not match the hospital’s, or SMS down, is explained on the form', async () => {
  let answer = apiError(409, 'PATIENT_IDENTITY_MISMATCH', '姓名不一致');
  installFakeBackend({ 'POST /api/v1/patients': () => answer });
  const page = await renderPage('pages/patients/add');
  await submitForm(page);
  expect(textOf(page.querySelector('.form-error'))).toBe('姓名与医院登记的信息不一致，请核对姓名（少数民族姓名请注意中间的“·”）');

  answer = apiError(503, 'SMS_UNAVAILABLE', '短信服务不可用');
  await tap(page, '#submit-button');
  expect(textOf(page.querySelector('.form-error'))).toBe('短信暂时无法发送，请稍后再试');
  expect(page.querySelector('#input-code')).toBeUndefined();
});
