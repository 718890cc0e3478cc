/**
 * The whole booking flow through the REAL page code against a live BFF:
 * login → add patient → departments → schedules → slot → confirm → result → my appointments
 * → detail → cancel. The stack is started by global-setup.js.
 */
const { renderPage, textOf, tap, resetWorld, navigations, flush } = require('../helpers/page');
const { installLiveWx, postJson } = require('../helpers/live-wx');
const { checkDigit } = require('../../utils/id-card');
const fmt = require('../../utils/format');

const BFF = process.env.YIQIAO_E2E_BFF;
const HIS = process.env.YIQIAO_E2E_HIS;
const run = Date.now().toString().slice(-6);

function residentId() {
  const first17 = `110105196001${String(10 + (Number(run) % 18)).padStart(2, '0')}${run.slice(-3)}`;
  return first17 + checkDigit(first17);
}

function queryOf(url) {
  return Object.fromEntries(new URL(`http://x${url}`).searchParams.entries());
}

function lastNavigation() {
  return navigations()[navigations().length - 1];
}

async function settle(page, done, tries = 40) {
  for (let i = 0; i < tries; i += 1) {
    if (done(page)) return;
    await flush();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`page did not settle: ${textOf(page).slice(0, 300)}`);
}

async function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } });
  await flush();
}

/**
 * Taps through the date strip and periods until an open schedule shows; answers its card or null.
 * It starts at 明天: every slot of tomorrow lies ahead whatever the hour the test runs at, while
 * today's may all have ended.
 */
async function findOpenSchedule(page) {
  const dayCount = page.querySelectorAll('.date-item').length;
  for (let d = 1; d < dayCount; d += 1) {
    await tap(page, page.querySelectorAll('.date-item')[d]);
    for (let p = 0; p < page.querySelectorAll('.period').length; p += 1) {
      await tap(page, page.querySelectorAll('.period')[p]);
      const open = page.querySelector('.doctor--open');
      if (open) return open;
    }
  }
  return null;
}

/** Makes sure the department has an open schedule tomorrow, through the sandbox HIS control API. */
async function ensureSchedule(department) {
  const { request } = require('../../utils/request');
  const doctors = (await request({ path: '/api/v1/doctors', query: { department } })).items;
  if (!HIS || !doctors.length) return;
  await postJson(HIS, '/_control/schedules', {
    department_code: department,
    doctor_code: doctors[0].code,
    date: fmt.addDays(fmt.toDateString(new Date()), 1),
    period: 'pm',
    capacity: 4,
    release_at: new Date(Date.now() - 3600 * 1000).toISOString(),
  });
}

beforeAll(() => {
  if (!BFF) throw new Error('YIQIAO_E2E_BFF is not set: run with `npm run test:e2e` (jest.e2e.config.js)');
  resetWorld();
  installLiveWx(BFF, `e2e-${run}`);
});

test('a patient books and cancels an appointment end to end', async () => {
  // Login (the request layer signs in with wx.login → wx-login).
  const { signIn } = require('../../services/auth');
  const session = await signIn();
  expect(session.token).toBeTruthy();

  // Add a patient through the form.
  const add = await renderPage('pages/patients/add');
  await type(add, '#input-name', '测试患者');
  await type(add, '#input-id-number', residentId());
  await type(add, '#input-phone', `1380000${run.slice(-4)}`);
  await tap(add, '#submit-button');
  await settle(add, () => navigations().some((n) => n.kind === 'navigateBack') || !!add.querySelector('.form-error'));
  expect(add.querySelector('.form-error')).toBeUndefined();

  // Departments: two levels, pick the first clinic.
  const departments = await renderPage('pages/booking/departments');
  await settle(departments, (p) => !!p.querySelector('.dept-child'));
  await tap(departments, '.dept-child');
  const department = queryOf(lastNavigation().url).department;
  expect(department).toBeTruthy();

  // Schedules: find an open one (create one in the sandbox HIS if the seed has none left).
  let schedules = await renderPage('pages/booking/schedules', { department });
  await settle(schedules, (p) => !p.querySelector('t-loading') && p.querySelectorAll('.date-item').length === 8);
  let open = await findOpenSchedule(schedules);
  if (!open) {
    await ensureSchedule(department);
    schedules = await renderPage('pages/booking/schedules', { department });
    await settle(schedules, (p) => p.querySelectorAll('.date-item').length === 8);
    open = await findOpenSchedule(schedules);
  }
  expect(open).toBeTruthy();
  expect(textOf(open)).toMatch(/¥\d+\.\d{2}/);
  expect(textOf(open)).toMatch(/余\d+号/);
  await tap(schedules, open);
  const scheduleId = queryOf(lastNavigation().url).schedule_id;

  // Slots: the first one with numbers left.
  const slots = await renderPage('pages/booking/slots', { schedule_id: scheduleId });
  await settle(slots, (p) => p.querySelectorAll('.slot').length > 0);
  const freeSlot = slots.querySelectorAll('.slot').find((n) => !n.dom.className.includes('slot--full'));
  await tap(slots, freeSlot);
  expect(lastNavigation().url).toMatch(/^\/pages\/booking\/confirm\/index\?slot_id=/);

  // Confirm: our patient is preselected; book.
  const confirm = await renderPage('pages/booking/confirm', queryOf(lastNavigation().url));
  await settle(confirm, (p) => !!p.querySelector('.patient--selected'));
  expect(textOf(confirm.querySelector('.patient--selected'))).toContain('测试患者');
  await tap(confirm, '#confirm-button');
  await settle(confirm, () => lastNavigation().kind === 'redirectTo');
  const resultQuery = queryOf(lastNavigation().url);
  expect(resultQuery.message).toBeUndefined();
  expect(resultQuery.id).toBeTruthy();

  // Result: success.
  const result = await renderPage('pages/booking/result', resultQuery);
  await settle(result, (p) => textOf(p).includes('测试患者'));
  expect(textOf(result)).toContain('预约成功');

  // My appointments: it is listed.
  const list = await renderPage('pages/appointments/list');
  await settle(list, (p) => p.querySelectorAll('.appt').length > 0);
  expect(textOf(list)).toContain('测试患者');

  // Detail → cancel (confirming the dialog).
  wx.showModal = (opts) => opts.success({ confirm: true });
  const detail = await renderPage('pages/appointments/detail', { id: resultQuery.id });
  await settle(detail, (p) => !!p.querySelector('#cancel-button'));
  await tap(detail, '#cancel-button');
  await settle(detail, (p) => /已取消|已退款/.test(textOf(p.querySelector('#status-tag'))) || !!p.querySelector('.action-error'));
  expect(detail.querySelector('.action-error')).toBeUndefined();
  expect(textOf(detail.querySelector('#status-tag'))).toMatch(/已取消|已退款/);
});
