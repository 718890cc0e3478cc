/**
 * The electronic health card end to end: add a patient → apply for a card → show its dynamic QR
 * code → a registrar scans that very code at the counter and finds the patient and today's booking.
 * Real pages, real BFF, the health card platform simulator on loopback.
 */
const { renderPage, textOf, tap, resetWorld } = require('../helpers/page');
const { installLiveWx, liveRequest } = require('../helpers/live-wx');
const flow = require('../helpers/e2e-flow');
const fmt = require('../../utils/format');

function call(method, path, body, token) {
  return new Promise((resolve, reject) => {
    liveRequest({
      url: `${flow.stackUrl('bff')}${path}`, method, data: body,
      header: Object.assign({ 'Content-Type': 'application/json' }, token ? { Authorization: `Bearer ${token}` } : {}),
      success: (res) => resolve(res),
      fail: (e) => reject(new Error(e.errMsg)),
    });
  });
}

/** A schedule for today whose first slot starts in a few minutes, whatever the hour. */
async function scheduleToday() {
  const { request } = require('../../utils/request');
  const department = (await request({ path: '/api/v1/departments' })).items[0].children[0].code;
  const doctor = (await request({ path: '/api/v1/doctors', query: { department } })).items[0];
  const soon = new Date(Date.now() + 5 * 60 * 1000 + 8 * 3600 * 1000);
  const minutes = Math.min(soon.getUTCHours() * 60 + soon.getUTCMinutes(), 23 * 60 + 20);
  const startTime = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return flow.postJson(flow.stackUrl('his'), '/_control/schedules', {
    department_code: department, doctor_code: doctor.code, date: fmt.toDateString(new Date()), period: 'night',
    capacity: 2, slot_count: 1, start_time: startTime, release_at: new Date(Date.now() - 3600 * 1000).toISOString(),
  });
}

beforeAll(() => {
  resetWorld();
  installLiveWx(flow.stackUrl('bff'), `e2e-card-${Date.now()}`);
  wx.showModal = (opts) => opts.success({ confirm: true });
});

test('apply for a card, show its QR code, and a staff scan of that code finds the patient and the booking', async () => {
  const { signIn } = require('../../services/auth');
  await signIn();
  await flow.addPatient('持卡患者', 'card');
  const { listPatients } = require('../../services/patients');
  const patient = (await listPatients()).find((p) => p.name === '持卡患者');

  const cards = await renderPage('pages/healthcard/list');
  await flow.settle(cards, (p) => !!p.querySelector(`#apply-${patient.id}`));
  await tap(cards, `#apply-${patient.id}`);
  await flow.settle(cards, (p) => !!p.querySelector(`#show-card-${patient.id}`) || !!p.querySelector('.action-error'));
  expect(cards.querySelector('.action-error')).toBeUndefined();
  const { listHealthCards } = require('../../services/healthcards');
  const card = (await listHealthCards()).find((c) => c.patient_id === patient.id);

  const { slot_ids: slotIds, schedule_id: scheduleId } = await scheduleToday();
  const { bookAppointment } = require('../../services/appointments');
  const booking = await bookAppointment({ patientId: patient.id, scheduleId, slotId: slotIds[0] }, `card-${Date.now()}`);
  expect(booking.status).toBe('confirmed');

  const shown = await renderPage('pages/healthcard/card', { id: card.id });
  await flow.settle(shown, (p) => !!p.instance.data.qrCodeText);
  expect(shown.querySelector('#qr-image')).toBeTruthy();
  expect(textOf(shown)).toContain('持卡患者');
  expect(textOf(shown)).toMatch(/110105\*{12}/);
  const scanned = shown.instance.data.qrCodeText;

  const login = await call('POST', '/api/v1/staff/login', { username: 'registrar01', password: 'Sandbox#2026' });
  expect(login.statusCode).toBe(200);
  const scan = await call('POST', '/api/v1/staff/scan', { qr_code_text: scanned, scene: '0101012' }, login.data.token);
  expect(scan.statusCode).toBe(200);
  expect(scan.data.patient.his_patient_id).toBe(patient.his_patient_id);
  expect(scan.data.patient.id_number_masked).toMatch(/\*{8}/);
  expect(scan.data.appointments.map((a) => a.id)).toContain(booking.id);

  // The usage reports (booking in the app, the scan at the counter) reach the platform via the outbox.
  let mine = [];
  for (let i = 0; i < 50 && mine.length < 2; i += 1) {
    await new Promise((r) => setTimeout(r, 200));
    const reports = await flow.getJson(flow.stackUrl('healthcard'), '/_control/reports');
    mine = reports.items.filter((r) => r.health_card_id === card.health_card_id);
  }
  expect(mine.map((r) => [r.scene, r.card_channel]).sort()).toEqual([['0101011', '0402'], ['0101012', '0100']]);
});
