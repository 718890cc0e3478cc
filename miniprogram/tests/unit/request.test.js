const { resetWorld } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');

let request;
beforeEach(() => {
  resetWorld();
  jest.isolateModules(() => {
    request = require('../../utils/request');
  });
});

test('on 401 logs in again once, stores the new token and retries', async () => {
  let logins = 0;
  const fake = installFakeBackend({
    'POST /api/v1/auth/wx-login': (req) => {
      logins += 1;
      expect(req.data).toEqual({ code: 'test-code' });
      return { status: 200, body: { token: `fresh-${logins}`, expires_in: 7200, user: { id: 1 } } };
    },
    'GET /api/v1/patients': (req) => (req.headers.Authorization === 'Bearer fresh-1'
      ? { items: [{ id: 1 }] }
      : apiError(401, 'TOKEN_EXPIRED', '登录已过期')),
  });
  wx.setStorageSync('token', 'stale');

  await expect(request.request({ path: '/api/v1/patients' })).resolves.toEqual({ items: [{ id: 1 }] });
  expect(logins).toBe(1);
  expect(wx.getStorageSync('token')).toBe('fresh-1');
  expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.headers.Authorization || ''}`.trim())).toEqual([
    'GET /api/v1/patients Bearer stale',
    'POST /api/v1/auth/wx-login',
    'GET /api/v1/patients Bearer fresh-1',
  ]);
});

test('a second 401 is not retried again: it rejects with the envelope', async () => {
  let logins = 0;
  installFakeBackend({
    'POST /api/v1/auth/wx-login': () => {
      logins += 1;
      return { status: 200, body: { token: 'fresh', expires_in: 7200, user: { id: 1 } } };
    },
    'GET /api/v1/patients': () => apiError(401, 'TOKEN_INVALID', '请重新登录'),
  });
  wx.setStorageSync('token', 'stale');
  await expect(request.request({ path: '/api/v1/patients' })).rejects.toMatchObject({
    code: 'TOKEN_INVALID', message: '请重新登录', status: 401,
  });
  expect(logins).toBe(1);
});

test('errors carry code, message, details and status; Idempotency-Key is sent when asked', async () => {
  const fake = installFakeBackend({
    'POST /api/v1/patients': () => apiError(422, 'VALIDATION_ERROR', '身份证号不正确', { id_number: ['校验位错误'] }),
  });
  wx.setStorageSync('token', 't');
  const err = await request.request({ method: 'POST', path: '/api/v1/patients', data: { a: 1 }, idempotencyKey: 'k-1' })
    .catch((e) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ code: 'VALIDATION_ERROR', message: '身份证号不正确', status: 422, details: { id_number: ['校验位错误'] } });
  expect(fake.requests[0].headers).toMatchObject({ 'Idempotency-Key': 'k-1', Authorization: 'Bearer t' });
});

test('a dropped connection rejects with NETWORK_ERROR and a Chinese message', async () => {
  installFakeBackend({ 'GET /api/v1/departments': () => 'NETWORK_DOWN' });
  wx.setStorageSync('token', 't');
  await expect(request.request({ path: '/api/v1/departments' })).rejects.toMatchObject({
    code: 'NETWORK_ERROR', status: 0, message: '网络连接失败，请检查网络后重试',
  });
});

test('the base URL comes from storage when set there', async () => {
  expect(request.apiBase()).toBe('http://127.0.0.1:8000');
  wx.setStorageSync('apiBase', 'https://bff.example.org/');
  expect(request.apiBase()).toBe('https://bff.example.org');
});
