/** Idempotency keys for POSTs that create things (a booking must never be made twice). */

function hex(n) {
  let out = '';
  for (let i = 0; i < n; i += 1) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

/** A fresh UUID-v4-shaped key. */
function newIdempotencyKey() {
  const variant = '89ab'[Math.floor(Math.random() * 4)];
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}

module.exports = { newIdempotencyKey };
