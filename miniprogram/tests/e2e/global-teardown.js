/** Stops the live stack started by global-setup.js (SIGTERM, and its stdin closes). */
module.exports = async function stopStack() {
  const child = globalThis.__YIQIAO_STACK__;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
};
