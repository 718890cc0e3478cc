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

/**
 * One key per attempt at creating something: keyFor(body) answers the same key for the same
 * body until done() is called after a definite answer, so a retry after a lost answer is safe.
 */
function createKeyKeeper() {
  let key = null;
  let fingerprint = null;
  return {
    keyFor(body) {
      const print = JSON.stringify(body);
      if (!key || print !== fingerprint) {
        key = newIdempotencyKey();
        fingerprint = print;
      }
      return key;
    },
    done() {
      key = null;
    },
  };
}

module.exports = { newIdempotencyKey, createKeyKeeper };
