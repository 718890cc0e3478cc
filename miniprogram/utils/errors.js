/** Turning errors into what a patient can read. */

/** A Chinese message for any error: the server's own message when it gave one. */
function messageOf(err) {
  if (err && typeof err.message === 'string' && err.message && err.code) return err.message;
  return '操作未成功，请稍后重试';
}

module.exports = { messageOf };
