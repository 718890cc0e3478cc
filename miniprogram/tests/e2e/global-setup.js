/**
 * Starts the lead's live stack (sandbox HIS + sandbox WeChat + BFF on free loopback ports)
 * and waits for its one line of JSON with the addresses.
 */
const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');

const MAIN = path.resolve(__dirname, '../../..');
const PYTHON = process.env.YIQIAO_E2E_PYTHON || path.join(MAIN, '.venv/bin/python');
const START_TIMEOUT_MS = 90000;

module.exports = async function startStack() {
  if (!fs.existsSync(PYTHON)) throw new Error(`e2e: ${PYTHON} not found (the stack needs the project's .venv)`);
  const child = spawn(PYTHON, ['-m', 'tests.e2e.stack'], { cwd: MAIN, stdio: ['pipe', 'pipe', 'pipe'] });
  globalThis.__YIQIAO_STACK__ = child;
  let stderr = '';
  child.stderr.on('data', (c) => { stderr = (stderr + c.toString()).slice(-4000); });

  const addresses = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`e2e: stack not ready after ${START_TIMEOUT_MS} ms\n${stderr}`)), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.trim().startsWith('{'));
      if (line && buffer.includes('\n')) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line));
        } catch (err) {
          reject(new Error(`e2e: stack printed something that is not JSON: ${line}`));
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`e2e: the stack exited (code ${code}) before it was ready\n${stderr}`));
    });
  });
  if (!addresses.bff) throw new Error(`e2e: no "bff" address in ${JSON.stringify(addresses)}`);
  process.env.YIQIAO_E2E_BFF = addresses.bff;
  process.env.YIQIAO_E2E_HIS = addresses.his || '';
  process.env.YIQIAO_E2E_BFF_ONLINE = addresses.bff_online || '';
  process.env.YIQIAO_E2E_STACK = JSON.stringify(addresses);
};
