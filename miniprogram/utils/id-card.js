/** Validation of the 18-digit resident ID (GB 11643-1999) and mainland mobile numbers. */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CODES = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/** The check character (0-9 or X) for the first 17 digits. */
function checkDigit(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CODES[sum % 11];
}

function isValidBirthDate(yyyymmdd, today) {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  if (y < 1900) return false;
  return date.getTime() <= today.getTime();
}

/**
 * Checks a resident ID number; answers '' when valid, else a Chinese message for the form.
 * `today` can be given for tests.
 */
function idNumberError(value, today = new Date()) {
  const id = String(value || '').trim().toUpperCase();
  if (!id) return '请输入身份证号';
  if (!/^\d{17}[\dX]$/.test(id)) return '身份证号应为18位，最后一位可以是数字或X';
  if (!isValidBirthDate(id.slice(6, 14), today)) return '身份证号中的出生日期不正确';
  if (checkDigit(id.slice(0, 17)) !== id[17]) return '身份证号校验位不正确，请核对后重新输入';
  return '';
}

/** Birthday "YYYY-MM-DD" and gender ('male'/'female') read from a valid ID number. */
function idNumberFacts(value) {
  const id = String(value).trim().toUpperCase();
  return {
    birthday: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
    gender: Number(id[16]) % 2 === 1 ? 'male' : 'female',
  };
}

/** Checks a mainland mobile number; answers '' when valid, else a Chinese message. */
function phoneError(value) {
  const phone = String(value || '').trim();
  if (!phone) return '请输入手机号';
  if (!/^1[3-9]\d{9}$/.test(phone)) return '请输入11位手机号，以1开头';
  return '';
}

/** Checks a patient's name; answers '' when valid, else a Chinese message. */
function nameError(value) {
  const name = String(value || '').trim();
  if (!name) return '请输入就诊人姓名';
  if (name.length < 2 || name.length > 30) return '姓名应为2到30个字';
  return '';
}

module.exports = { checkDigit, idNumberError, idNumberFacts, phoneError, nameError };
