/**
 * Offline checks of the mini-program, no WeChat account needed:
 *  1. miniprogram-ci compiles the project (JS, JSON, WXSS, pages, component paths, WXML);
 *  2. the official wcc (miniprogram-compiler) over every .wxml and .wxs;
 *  3. a tag lint: every WXML tag is a built-in component or declared in usingComponents,
 *     and every wx:/bind attribute is one the framework knows.
 * Exits non-zero on the first kind of failure that has any.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const ci = require('miniprogram-ci');
const { lintWxml } = require('./wxml-lint');

const ROOT = path.resolve(__dirname, '..');
const SKIP_DIRS = new Set(['node_modules', 'miniprogram_npm', 'tests', 'scripts', 'coverage']);

/** Project files with the given extension, outside dependencies and tests. */
function projectFiles(ext, dir = ROOT) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) || entry.name.startsWith('.') ? [] : projectFiles(ext, full);
    return entry.name.endsWith(ext) ? [full] : [];
  });
}

async function compileWithCi() {
  const project = new ci.Project({
    appid: 'touristappid',
    type: 'miniProgram',
    projectPath: ROOT,
    privateKey: 'offline-check-no-key',
    ignores: ['node_modules/**/*', 'tests/**/*', 'scripts/**/*'],
    attr: async () => ci.DefaultProjectAttr,
  });
  const result = await ci.getCompiledResult({
    project,
    setting: { es6: true, minify: false, minifyWXML: true, autoPrefixWXSS: true },
  });
  const files = Object.keys(result || {});
  console.log(`[1/3] miniprogram-ci compiled ${files.length} files`);
}

function compileWithWcc() {
  const wcc = require.resolve('miniprogram-compiler/bin/linux/wcc');
  fs.chmodSync(wcc, 0o755);
  const files = projectFiles('.wxml').concat(projectFiles('.wxs'));
  const failures = files.map((file) => {
    const rel = path.relative(ROOT, file);
    const out = spawnSync(wcc, ['-d', rel], { cwd: ROOT, encoding: 'utf8' });
    return out.status === 0 ? null : `${rel}: ${(out.stderr || out.stdout || '').trim()}`;
  }).filter(Boolean);
  if (failures.length) throw new Error(`wcc rejected:\n${failures.join('\n')}`);
  console.log(`[2/3] wcc compiled ${files.length} .wxml/.wxs files`);
}

function lintTags() {
  const problems = projectFiles('.wxml').flatMap((file) => {
    const jsonPath = file.replace(/\.wxml$/, '.json');
    const json = fs.existsSync(jsonPath) ? JSON.parse(fs.readFileSync(jsonPath, 'utf8')) : {};
    const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
    const declared = Object.assign({}, appJson.usingComponents, json.usingComponents);
    return lintWxml(fs.readFileSync(file, 'utf8'), Object.keys(declared))
      .map((p) => `${path.relative(ROOT, file)}:${p.line}: ${p.message}`);
  });
  if (problems.length) throw new Error(`WXML lint:\n${problems.join('\n')}`);
  console.log('[3/3] WXML tags and attributes are all known');
}

/** miniprogram-ci leaves an empty scratch folder named by a 32-hex hash in the project: remove it. */
function removeCompilerScratch() {
  fs.readdirSync(ROOT).filter((name) => /^[0-9a-f]{32}$/.test(name)).forEach((name) => {
    const dir = path.join(ROOT, name);
    if (fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  });
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'miniprogram_npm'))) {
    throw new Error('miniprogram_npm/ is missing: run `npm run build:npm` first');
  }
  try {
    await compileWithCi();
  } finally {
    removeCompilerScratch();
  }
  compileWithWcc();
  lintTags();
}

main().then(
  () => {
    console.log('check: OK');
    process.exit(0); // the compiler leaves a child process behind
  },
  (err) => {
    console.error(`check: FAILED\n${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
