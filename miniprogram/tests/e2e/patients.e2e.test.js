/**
 * 添加就诊人 for a person the hospital already knows, through the REAL page against a live BFF, the
 * sandbox HIS (which holds 王建国 with phone 13800000000) and the Tencent Cloud SMS simulator: the
 * page asks for the code the simulator received for the HIS's phone, and the right code adds him.
 */
const { renderPage, textOf, tap, resetWorld, navigations } = require('../helpers/page');
const { installLiveWx } = require('../helpers/live-wx');
const flow = require('../helpers/e2e-flow');

const KNOWN = { name: '王建国', idNumber: '110101198001010010', hisPhone: '13800000000' };

beforeAll(() => {
  resetWorld();
  installLiveWx(flow.stackUrl('bff'), `e2e-known-${Date.now()}`);
});

test('a person the hospital knows is added after the SMS code sent to the phone on file', async () => {
  const { signIn } = require('../../services/auth');
  expect((await signIn()).token).toBeTruthy();
  const add = await renderPage('pages/patients/add');
  await flow.type(add, '#input-name', KNOWN.name);
  await flow.type(add, '#input-id-number', KNOWN.idNumber);
  await flow.type(add, '#input-phone', '13912345678'); // what the user types; the code goes to the HIS's phone
  await tap(add, '#submit-button');
  await flow.settle(add, (p) => !!p.querySelector('.verify-sent') || !!p.querySelector('.form-error'));
  expect(textOf(add.querySelector('.verify-sent'))).toBe('验证码已发送至 138****0000');

  const { items } = await flow.getJson(flow.stackUrl('sms'), `/_control/messages?phone=${KNOWN.hisPhone}`);
  expect(items.length).toBe(1);
  await flow.type(add, '#input-code', items[0].params[0]);
  await tap(add, '#verify-button');
  await flow.settle(add, () => navigations().some((n) => n.kind === 'navigateBack') || !!add.querySelector('.error-code'));
  expect(add.querySelector('.error-code')).toBeUndefined();

  const list = await renderPage('pages/patients/list');
  await flow.settle(list, (p) => textOf(p).includes(KNOWN.name));
  expect(textOf(list)).toContain('110101************');
});
