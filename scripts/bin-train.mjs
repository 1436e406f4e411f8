// node scripts/bin-train.mjs <bin/tool.js> <cache file> [the tool's arguments...]
// Runs one tool of bin/ in this process, as its entry would run alone, and when the tool ends with exit code 0
// writes V8's code cache of its bundle as the run left it (the functions the run compiled included) to <cache file>.
// Run by scripts/build-bin.mjs with Node's own flags, none: V8 takes a cache only under the flags it was made with.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [entry, cache, ...args] = process.argv.slice(2);
if (!entry || !cache) {
  process.stderr.write('usage: node scripts/bin-train.mjs <bin/tool.js> <cache file> [arguments...]\n');
  process.exit(2);
}
// The tool reads its arguments from process.argv.slice(2), as when its entry is the main module.
process.argv.splice(1, process.argv.length - 1, entry, ...args);
let loaded;
process.on('exit', (code) => {
  if (code !== 0) return;
  if (!loaded) {
    process.stderr.write(`bin-train: ${entry} ended before its entry finished loading: no cache written\n`);
    process.exitCode = 1;
    return;
  }
  if (loaded.script.cachedDataRejected === true) {
    process.stderr.write(`bin-train: V8 refused the cache already beside ${entry}\n`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(cache, loaded.script.createCachedData());
});
loaded = createRequire(import.meta.url)(resolve(entry));
