/**
 * Steps the end-to-end tests share: waiting for a live page, typing, adding a patient through the
 * form, walking departments → schedules → slots, and talking to the simulators' control APIs.
 */
const { renderPage, textOf, tap, flush, navigations } = require('./page');
const { liveRequest, postJson } = require('./live-wx');
const { checkDigit } = require('../../utils/id-card');
const fmt = require('../../utils/format');

const STACK = JSON.parse(process.env.YIQIAO_E2E_STACK || '{}');

/** The address of one part of the live stack (bff, bff_online, his, wechatpay, healthcard…). */
function stackUrl(name) {
  if (!STACK[name]) throw new Error(`YIQIAO_E2E_STACK has no "${name}": run with \`npm run test:e2e\``);
  return STACK[name];
}

/** A fresh, valid resident ID number (GB 11643) unique to this run and `salt`. */
function residentId(salt) {
  const digits = `${Date.now()}${salt}`.replace(/\D/g, '').slice(-6).padStart(6, '0');
  const first17 = `110105196001${String(10 + (Number(digits) % 18)).padStart(2, '0')}${digits.slice(-3)}`;
  return first17 + checkDigit(first17);
}

function queryOf(url) {
  return Object.fromEntries(new URL(`http://x${url}`).searchParams.entries());
}

function lastNavigation() {
  return navigations()[navigations().length - 1];
}

/** Waits (live network) until done(page) holds; fails with the page text otherwise. */
async function settle(page, done, tries = 80) {
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

/** Adds a patient through the form; waits until the page goes back. */
async function addPatient(name, salt) {
  const add = await renderPage('pages/patients/add');
  await type(add, '#input-name', name);
  await type(add, '#input-id-number', residentId(salt));
  await type(add, '#input-phone', `1380000${String(Date.now()).slice(-4)}`);
  await tap(add, '#submit-button');
  await settle(add, () => navigations().some((n) => n.kind === 'navigateBack') || !!add.querySelector('.form-error'));
  if (add.querySelector('.form-error')) throw new Error(`adding the patient failed: ${textOf(add)}`);
}

/** A JSON GET for test set-up and checks. */
function getJson(base, path, headers = {}) {
  return new Promise((resolve, reject) => {
    liveRequest({
      url: `${base}${path}`, method: 'GET', header: headers,
      success: (res) => (res.statusCode < 300 ? resolve(res.data) : reject(new Error(`${path}: ${res.statusCode}`))),
      fail: (e) => reject(new Error(e.errMsg)),
    });
  });
}

/** Makes sure a department has a schedule open tomorrow afternoon (sandbox HIS control API). */
async function ensureSchedule(department) {
  const { request } = require('../../utils/request');
  const doctors = (await request({ path: '/api/v1/doctors', query: { department } })).items;
  if (!doctors.length) return;
  await postJson(stackUrl('his'), '/_control/schedules', {
    department_code: department, doctor_code: doctors[0].code, date: fmt.addDays(fmt.toDateString(new Date()), 1),
    period: 'pm', capacity: 4, release_at: new Date(Date.now() - 3600 * 1000).toISOString(),
  });
}

/**
 * Taps through the date strip and periods until an open schedule shows; its card or null.
 * It starts at 明天: every slot of tomorrow lies ahead whatever the hour the test runs at.
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

/** Departments → schedules → a free slot → the confirm page, as a patient taps them. */
async function walkToConfirm() {
  const departments = await renderPage('pages/booking/departments');
  await settle(departments, (p) => !!p.querySelector('.dept-child'));
  await tap(departments, '.dept-child');
  const { department } = queryOf(lastNavigation().url);
  let schedules = await renderPage('pages/booking/schedules', { department });
  await settle(schedules, (p) => !p.querySelector('t-loading') && p.querySelectorAll('.date-item').length === 8);
  let open = await findOpenSchedule(schedules);
  if (!open) {
    await ensureSchedule(department);
    schedules = await renderPage('pages/booking/schedules', { department });
    await settle(schedules, (p) => p.querySelectorAll('.date-item').length === 8);
    open = await findOpenSchedule(schedules);
  }
  if (!open) throw new Error('no open schedule even after adding one');
  await tap(schedules, open);
  const slots = await renderPage('pages/booking/slots', { schedule_id: queryOf(lastNavigation().url).schedule_id });
  await settle(slots, (p) => p.querySelectorAll('.slot').length > 0);
  await tap(slots, slots.querySelectorAll('.slot').find((n) => !n.dom.className.includes('slot--full')));
  return renderPage('pages/booking/confirm', queryOf(lastNavigation().url));
}

module.exports = {
  stackUrl, residentId, queryOf, lastNavigation, settle, type, addPatient, getJson, ensureSchedule,
  findOpenSchedule, walkToConfirm, postJson,
};
