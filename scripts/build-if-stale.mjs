// `npm test` builds first (pretest), but `npm ci` has just built (prepare): build again only when a source is newer
// than the last complete build, so the README's `npm ci && npm test` builds once. `--stamp` marks a build complete
// (the last step of `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'build', '.complete');

if (process.argv.includes('--stamp')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}

/** The newest modification time among the build's inputs. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs);
}

const inputs = ['assembly', 'bindings', 'scripts', 'asconfig.json', 'tsconfig.json', 'package.json', 'package-lock.json'].map((p) => join(root, p)).filter(existsSync);
const outputs = ['build/engine.wasm', 'dist/index.js', 'bin/in-toto-verify.js'].map((p) => join(root, p));
const fresh = existsSync(stamp) && outputs.every(existsSync) && statSync(stamp).mtimeMs >= Math.max(...inputs.map(newest));
if (fresh) {
  console.log('build: up to date (nothing changed since the last npm run build)');
} else {
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
