/**
 * Builds miniprogram_npm/ from node_modules with miniprogram-ci, offline,
 * the same way WeChat DevTools' "构建 npm" does (packNpmManually).
 */
const path = require('path');
const ci = require('miniprogram-ci');

const root = path.resolve(__dirname, '..');

async function main() {
  const result = await ci.packNpmManually({
    packageJsonPath: path.join(root, 'package.json'),
    miniprogramNpmDistDir: root,
  });
  console.log('miniprogram_npm built:', JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
