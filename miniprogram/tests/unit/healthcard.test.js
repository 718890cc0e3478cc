/** 电子健康卡: the cards page (申领 / 出示) and the card page's dynamic QR code. */
const { renderPage, textOf, tap, advance, settle, resetWorld, navigations } = require('../helpers/page');
const { installFakeBackend, apiError } = require('../helpers/fake-backend');
const fx = require('../helpers/fixtures');

beforeEach(resetWorld);
afterEach(() => jest.useRealTimers());

const NOW = new Date(`${fx.today}T09:30:00+08:00`);
const posts = (fake) => fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/health-cards');
const qrGets = (fake) => fake.requests.filter((r) => r.path === '/api/v1/health-cards/301/qrcode');

function pngOf(n) {
  return Buffer.from(`png-${n}`).toString('base64');
}

/** A platform whose codes live 60 s from the moment they are asked for. */
function cardBackend(extra = {}) {
  let issued = 0;
  return installFakeBackend(Object.assign({
    'GET /api/v1/health-cards': () => ({ items: [fx.healthCard({})] }),
    'GET /api/v1/health-cards/:id/qrcode': () => {
      issued += 1;
      return { qr_code_text: `code-${issued}`, expires_at: new Date(Date.now() + 60000).toISOString(), png: pngOf(issued) };
    },
  }, extra));
}

/** The src the page gave the QR image (built-in components keep attributes in the tree, not the DOM). */
function qrSrc(page) {
  const image = page.querySelector('#qr-image');
  if (!image) return null;
  const src = image.toJSON().attrs.find((a) => a.name === 'src');
  return src ? src.value : null;
}

test('the cards page shows each patient’s card or 申领; 出示 opens the card', async () => {
  installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'GET /api/v1/health-cards': () => ({ items: [fx.healthCard({})] }),
  });
  const page = await renderPage('pages/healthcard/list');
  const withCard = textOf(page.querySelector('#hc-patient-11'));
  expect(withCard).toContain('王建国');
  expect(withCard).toContain('已领卡');
  expect(withCard).toContain('卡号 5B3A****9F21');
  expect(page.querySelector('#apply-11')).toBeUndefined();
  expect(textOf(page.querySelector('#hc-patient-12'))).toContain('申领电子健康卡');
  expect(page.querySelector('#show-card-12')).toBeUndefined();

  await tap(page, '#show-card-11');
  expect(navigations()).toEqual([expect.objectContaining({ kind: 'navigateTo', url: '/pages/healthcard/card/index?id=301' })]);
});

test('申领 asks for consent, applies with a key and opens the new card; a refusal shows the server’s reason', async () => {
  let cards = [fx.healthCard({})];
  let calls = 0;
  const fake = installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'GET /api/v1/health-cards': () => ({ items: cards }),
    'POST /api/v1/health-cards': () => {
      calls += 1;
      if (calls === 1) return 'NETWORK_DOWN';
      if (calls === 2) return apiError(503, 'HEALTH_CARD_UNAVAILABLE', '健康卡平台暂时无法连接，请稍后再试');
      const card = fx.healthCard({ id: 302, patient_id: 12, patient: { id: 12, name: '李秀英', relation: 'spouse' } });
      cards = cards.concat([card]);
      return { status: 201, body: card };
    },
  });
  const asked = [];
  let answer = false;
  wx.showModal = (opts) => { asked.push(opts.content); opts.success({ confirm: answer }); };
  const page = await renderPage('pages/healthcard/list');

  await tap(page, '#apply-12');
  expect(asked[0]).toContain('“李秀英”');
  expect(posts(fake)).toEqual([]);

  answer = true;
  await tap(page, '#apply-12');
  expect(textOf(page.querySelector('.action-error'))).toBe('网络连接失败，请检查网络后重试');
  await tap(page, '#apply-12');
  expect(textOf(page.querySelector('.action-error'))).toBe('健康卡平台暂时无法连接，请稍后再试');
  await tap(page, '#apply-12');

  const sent = posts(fake);
  expect(sent.map((r) => r.data)).toEqual([{ patient_id: 12 }, { patient_id: 12 }, { patient_id: 12 }]);
  // The retry after a lost answer reuses the key; after a definite answer a new one is made.
  expect(sent[1].headers['Idempotency-Key']).toBe(sent[0].headers['Idempotency-Key']);
  expect(sent[2].headers['Idempotency-Key']).not.toBe(sent[1].headers['Idempotency-Key']);
  expect(navigations()).toEqual([expect.objectContaining({ url: '/pages/healthcard/card/index?id=302' })]);
  expect(page.querySelector('#show-card-12')).toBeDefined();
  expect(page.querySelector('#apply-12')).toBeUndefined();
});

test('the card page shows the code with the masked details and a countdown, and refreshes it before it expires', async () => {
  jest.useFakeTimers({ now: NOW });
  const fake = cardBackend();
  const page = await renderPage('pages/healthcard/card', { id: '301' });
  const text = textOf(page);
  expect(text).toContain('王建国');
  expect(text).toContain('110101************');
  expect(text).toContain('138****5678');
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf(1)}`);
  expect(page.instance.data.qrCodeText).toBe('code-1');
  expect(textOf(page.querySelector('#qr-countdown'))).toBe('二维码 60 秒内有效，将自动刷新');

  await advance(10000);
  expect(textOf(page.querySelector('#qr-countdown'))).toContain('二维码 50 秒');
  expect(qrGets(fake)).toHaveLength(1);

  await advance(46000); // about 5 s before it expires
  expect(qrGets(fake)).toHaveLength(2);
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf(2)}`);
  expect(textOf(page.querySelector('#qr-countdown'))).toContain('二维码 60 秒');
});

test('a failed refresh says so and offers 重新获取; the code goes away when it expires, never shown as valid', async () => {
  jest.useFakeTimers({ now: NOW });
  const fake = cardBackend();
  const page = await renderPage('pages/healthcard/card', { id: '301' });
  const working = fake.requests.length;
  fake.setRoute('GET /api/v1/health-cards/:id/qrcode', () => apiError(503, 'HEALTH_CARD_UNAVAILABLE', '健康卡平台暂时无法连接，请稍后再试'));

  await advance(56000);
  expect(textOf(page.querySelector('#qr-error'))).toBe('二维码刷新失败：健康卡平台暂时无法连接，请稍后再试');
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf(1)}`);
  expect(page.querySelector('#qr-retry-button')).toBeDefined();

  await advance(4000);
  expect(page.querySelector('#qr-image')).toBeUndefined();
  expect(page.instance.data.qrCodeText).toBe('');
  expect(page.querySelector('#qr-countdown')).toBeUndefined();
  expect(textOf(page.querySelector('.qr-expired'))).toBe('二维码获取失败');
  await advance(30000);
  expect(fake.requests.length).toBe(working + 1); // no retry storm: the patient decides

  let n = 0;
  fake.setRoute('GET /api/v1/health-cards/:id/qrcode', () => {
    n += 1;
    return { qr_code_text: 'fresh', expires_at: new Date(Date.now() + 60000).toISOString(), png: pngOf(`r${n}`) };
  });
  await tap(page, '#qr-retry-button');
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf('r1')}`);
  expect(page.querySelector('#qr-error')).toBeUndefined();
});

test('hidden, the page stops refreshing; shown again, it asks for a fresh code at once', async () => {
  jest.useFakeTimers({ now: NOW });
  const fake = cardBackend();
  const page = await renderPage('pages/healthcard/card', { id: '301' });
  page.instance.onHide();
  await advance(180000);
  expect(qrGets(fake)).toHaveLength(1);

  await settle(page.instance.onShow());
  expect(qrGets(fake)).toHaveLength(2);
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf(2)}`);

  page.detach();
  await advance(180000);
  expect(qrGets(fake)).toHaveLength(2);
});

test('a phone clock that is wrong does not stretch the code: its life is counted on the server’s clock', async () => {
  jest.useFakeTimers({ now: NOW });
  const serverNow = new Date(NOW.getTime() + 120000); // the phone is two minutes slow
  let calls = 0;
  cardBackend({
    'GET /api/v1/health-cards/:id/qrcode': () => {
      calls += 1;
      if (calls > 1) return apiError(503, 'HEALTH_CARD_UNAVAILABLE', '健康卡平台暂时无法连接，请稍后再试');
      return {
        status: 200,
        headers: { date: serverNow.toUTCString() },
        body: { qr_code_text: 'c', expires_at: new Date(serverNow.getTime() + 60000).toISOString(), png: pngOf(1) },
      };
    },
  });
  const page = await renderPage('pages/healthcard/card', { id: '301' });
  // Read on the phone's clock the code would seem to live 3 minutes.
  expect(textOf(page.querySelector('#qr-countdown'))).toBe('二维码 59 秒内有效，将自动刷新');
  await advance(58500);
  expect(qrSrc(page)).toBe(`data:image/png;base64,${pngOf(1)}`);
  await advance(1000);
  expect(page.querySelector('#qr-image')).toBeUndefined();
});

test('长辈模式 applies on both pages (the code is drawn larger)', async () => {
  jest.useFakeTimers({ now: NOW });
  wx.setStorageSync('elderMode', true);
  installFakeBackend({
    'GET /api/v1/patients': () => fx.patients,
    'GET /api/v1/health-cards': () => ({ items: [fx.healthCard({})] }),
    'GET /api/v1/health-cards/:id/qrcode': () => ({ qr_code_text: 'c', expires_at: new Date(Date.now() + 60000).toISOString(), png: pngOf(1) }),
  });
  const list = await renderPage('pages/healthcard/list');
  expect(list.dom.firstElementChild.className).toContain('page-root--elder');
  const card = await renderPage('pages/healthcard/card', { id: '301' });
  expect(card.dom.firstElementChild.className).toContain('page-root--elder');
  expect(card.querySelector('#qr-image').dom.className).toContain('qr-image');
});
