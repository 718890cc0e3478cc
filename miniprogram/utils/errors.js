/** Turning errors into what a patient can read, and telling apart the ones worth retrying. */

/** A Chinese message for any error: the server's own message when it gave one. */
function messageOf(err) {
  if (err && typeof err.message === 'string' && err.message && err.code) return err.message;
  return '操作未成功，请稍后重试';
}

/**
 * True when a POST may or may not have taken effect: no answer from the BFF itself
 * (connection lost, or a proxy answered). Retry it with the same Idempotency-Key.
 */
function outcomeUnknown(err) {
  return !!err && (err.status === 0 || err.code === 'HTTP_ERROR');
}

module.exports = { messageOf, outcomeUnknown };
