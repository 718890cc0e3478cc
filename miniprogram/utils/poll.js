/** Waiting and bounded polling, on plain timers (jest's fake timers drive them in tests). */

/** Resolves after ms milliseconds. */
function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls fetchOnce() until isDone(value), every intervalMs, for at most timeoutMs; a failed
 * fetch is retried like an unfinished one. Stops early when stopped() (e.g. the page closed).
 * Resolves {done, value} with the last value seen.
 */
async function pollUntil(fetchOnce, isDone, { intervalMs = 1000, timeoutMs = 15000, stopped = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    try {
      value = await fetchOnce();
      if (isDone(value)) return { done: true, value };
    } catch (err) {
      // A lost poll says nothing about the outcome: ask again.
    }
    if (stopped() || Date.now() + intervalMs > deadline) return { done: false, value };
    await wait(intervalMs);
    if (stopped()) return { done: false, value };
  }
}

module.exports = { wait, pollUntil };
