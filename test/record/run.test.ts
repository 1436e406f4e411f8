/**
 * executeCommand against the reference: the same byproducts as in_toto 1.3.1's runlib.execute_link for the
 * same commands, and the same failures (a command that does not exist, output that is not UTF-8, a timeout).
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InTotoError } from '../../bindings/errors.js';
import { DEFAULT_TIMEOUT_SECONDS, executeCommand, type Byproducts, type ExecuteOptions } from '../../bindings/record/run.js';
import { assertReferenceInstalled, makeTempDir, runPython } from '../helpers/reference.js';

interface Case {
  argv: string[];
  record: boolean;
  timeout?: number;
  cwd?: string;
}

type Outcome = { ok: Byproducts } | { error: string; message: string };

/**
 * Runs each case with execute_link. What run_duplicate_streams copies to python's own stdout and stderr goes
 * to buffers, so that only the answer reaches ours.
 */
const REFERENCE_RUNNER = `
import io, json, os, sys, time
import in_toto.settings
from in_toto.runlib import execute_link
real_stdout = sys.stdout
out = []
for case in json.load(sys.stdin):
    in_toto.settings.LINK_CMD_EXEC_TIMEOUT = case.get("timeout", 10)
    os.chdir(case.get("cwd") or "/")
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        out.append({"ok": execute_link(case["argv"], case["record"])})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
    finally:
        sys.stdout, sys.stderr = real_stdout, sys.__stderr__
print(json.dumps(out))
`;

function reference(cases: Case[]): Outcome[] {
  return JSON.parse(runPython(REFERENCE_RUNNER, JSON.stringify(cases)).toString('utf8')) as Outcome[];
}

function optionsFor(c: Case): ExecuteOptions {
  return { recordStreams: c.record, timeoutSeconds: c.timeout, cwd: c.cwd ?? '/' };
}

/** Which of our error codes and fields stands for each exception of the reference's. */
const REFERENCE_ERRORS: Record<string, { code: string; field: RegExp }> = {
  FileNotFoundError: { code: 'IO', field: /^argv\[0\]$/ },
  PermissionError: { code: 'IO', field: /^argv\[0\]$/ },
  UnicodeDecodeError: { code: 'FORMAT', field: /^std(out|err)$/ },
  TimeoutExpired: { code: 'LIMIT', field: /^timeoutSeconds$/ },
};

async function expectSameAsReference(cases: Case[]): Promise<Outcome[]> {
  const theirs = reference(cases);
  for (const [i, c] of cases.entries()) {
    const expected = theirs[i]!;
    const label = JSON.stringify(c);
    const ours = await executeCommand(c.argv, optionsFor(c)).then(
      (ok) => ({ ok }),
      (error: unknown) => ({ error }),
    );
    if ('ok' in expected) {
      expect(ours, label).toEqual(expected);
      continue;
    }
    const mapped = REFERENCE_ERRORS[expected.error];
    expect(mapped, `${label}: unexpected reference error ${expected.error}: ${expected.message}`).toBeDefined();
    expect('error' in ours && ours.error, `${label}: the reference raised ${expected.error}: ${expected.message}`).toBeInstanceOf(InTotoError);
    const error = (ours as { error: InTotoError }).error;
    expect(error.code, label).toBe(mapped!.code);
    expect(error.field, label).toMatch(mapped!.field);
  }
  return theirs;
}

const sh = (script: string): string[] => ['sh', '-c', script];

let scratch: string;
beforeAll(() => {
  assertReferenceInstalled();
  scratch = makeTempDir('in-toto-run-');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the same byproducts as execute_link', () => {
  it('streams recorded or not, exit codes, line endings, unicode', async () => {
    const mixed = sh("printf 'out\\r\\nline\\rlast'; printf 'err\\r\\n' >&2; exit 3");
    const theirs = await expectSameAsReference([
      { argv: mixed, record: true },
      { argv: mixed, record: false }, // empty strings, the exit code still recorded
      { argv: ['true'], record: true },
      { argv: ['false'], record: true },
      { argv: sh('exit 255'), record: false },
      { argv: sh("printf '\\357\\273\\277bom \\303\\251 \\360\\237\\230\\200 nul\\000end'"), record: true },
      { argv: sh('printf "%s" "$0|$1|$2"'), record: true }, // arguments passed as they are, no shell of ours
      { argv: ['sh', '-c', 'printf "%s" "$@"', 'x', '*', '$HOME', "'q'"], record: true },
      { argv: sh('seq 1 1500; seq 1 1500 >&2'), record: true }, // 6.4 KB each: see the next test for more
      { argv: ['pwd'], record: true, cwd: scratch },
    ]);
    expect(theirs[0]).toEqual({ ok: { 'return-value': 3, stderr: 'err\n', stdout: 'out\nline\nlast' } });
    expect(theirs[1]).toEqual({ ok: { 'return-value': 3, stderr: '', stdout: '' } });
    expect((theirs[5] as { ok: Byproducts }).ok.stdout).toBe('\uFEFFbom \u00e9 \u{1F600} nul\0end');
  });

  it('records all of a large output (the reference may drop the end of it)', async () => {
    // The reference reads each stream 8 KiB per poll while the command runs, then 8 KiB once more after it
    // exits: whatever a command writes faster than that just before exiting is missing from its link,
    // depending on timing. We record everything. 3 MB is more than any pipe holds.
    const result = await executeCommand(sh('head -c 3000000 /dev/zero | tr "\\0" "a"; seq 1 20000 >&2; exit 4'), { recordStreams: true });
    expect(result['return-value']).toBe(4);
    expect(result.stdout).toBe('a'.repeat(3_000_000));
    expect(result.stderr).toBe(Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(''));
  });

  it('a command ended by a signal records minus the signal number', async () => {
    const theirs = await expectSameAsReference([
      { argv: sh('kill -9 $$'), record: true },
      { argv: sh('kill -TERM $$'), record: false },
    ]);
    expect(theirs.map((t) => (t as { ok: Byproducts }).ok['return-value'])).toEqual([-9, -15]);
  });

  it('output that is not UTF-8 fails when recorded, and does not matter when not', async () => {
    const theirs = await expectSameAsReference([
      { argv: sh("printf 'ok \\377\\376'"), record: true },
      { argv: sh("printf '\\303' >&2"), record: true }, // a truncated sequence
      { argv: sh("printf '\\355\\240\\200'"), record: true }, // an encoded surrogate
      { argv: sh("printf '\\377'"), record: false },
    ]);
    expect(theirs.map((t) => ('error' in t ? t.error : 'ok'))).toEqual(['UnicodeDecodeError', 'UnicodeDecodeError', 'UnicodeDecodeError', 'ok']);
    // Both streams bad: stdout is named, the stream the reference decodes first.
    await expect(executeCommand(sh("printf '\\377' >&2; printf '\\377'"), { recordStreams: true })).rejects.toMatchObject({ code: 'FORMAT', field: 'stdout' });
  });

  it('a command that does not exist or cannot be executed fails, recorded or not', async () => {
    const script = join(scratch, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const theirs = await expectSameAsReference([
      { argv: ['in-toto-no-such-command'], record: true },
      { argv: ['in-toto-no-such-command'], record: false },
      { argv: ['/no/such/path/tool'], record: true },
      { argv: [script], record: true },
      { argv: [scratch], record: false }, // a directory
    ]);
    expect(theirs.map((t) => ('error' in t ? t.error : 'ok'))).toEqual(['FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError', 'PermissionError', 'PermissionError']);
    await expect(executeCommand(['in-toto-no-such-command'])).rejects.toThrow(/in-toto-no-such-command/);
  });

  it('a command that outlives the timeout is killed and fails, recorded or not', async () => {
    const started = performance.now();
    await expectSameAsReference([
      { argv: ['sleep', '5'], record: true, timeout: 0.5 },
      { argv: ['sleep', '5'], record: false, timeout: 0.5 },
    ]);
    // Both implementations, both modes: well under the 4 x 5 s the sleeps would take.
    expect(performance.now() - started).toBeLessThan(8000);
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(10);
  });

  it('returns once the command exits, even if something it started still holds its output open', async () => {
    const started = performance.now();
    const [theirs] = await expectSameAsReference([{ argv: sh('sleep 3 >/dev/null & echo started'), record: true }]);
    expect(theirs).toEqual({ ok: { 'return-value': 0, stderr: '', stdout: 'started\n' } });
    expect(performance.now() - started).toBeLessThan(2900);
  });
});

describe('options', () => {
  it('echo copies the recorded streams to ours as they come', async () => {
    const written = { stdout: [] as string[], stderr: [] as string[] };
    const spies = (['stdout', 'stderr'] as const).map((name) =>
      vi.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array) => {
        written[name].push(Buffer.from(chunk).toString());
        return true;
      }),
    );
    try {
      const result = await executeCommand(sh("printf 'one\\r\\n'; sleep 0.2; printf two; printf err >&2"), { recordStreams: true, echo: true });
      expect(result).toEqual({ 'return-value': 0, stderr: 'err', stdout: 'one\ntwo' });
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    // As written by the command (its own line endings), in more than one piece: copied while it ran.
    expect(written.stdout.join('')).toBe('one\r\ntwo');
    expect(written.stdout.length).toBeGreaterThan(1);
    expect(written.stderr.join('')).toBe('err');
  });

  it('runs in the given directory with the given environment', async () => {
    expect(await executeCommand(sh('pwd; printf "%s" "$IN_TOTO_TEST"'), { recordStreams: true, cwd: scratch, env: { PATH: process.env.PATH, IN_TOTO_TEST: 'value' } })).toEqual({
      'return-value': 0,
      stderr: '',
      stdout: `${scratch}\nvalue`,
    });
  });

  it('refuses a bad command or timeout before running anything', async () => {
    await expect(executeCommand([])).rejects.toMatchObject({ code: 'FORMAT', field: 'argv' });
    await expect(executeCommand(['echo', 'a\0b'])).rejects.toMatchObject({ code: 'FORMAT', field: 'argv[1]' });
    await expect(executeCommand(['true'], { timeoutSeconds: -1 })).rejects.toMatchObject({ code: 'FORMAT', field: 'timeoutSeconds' });
    await expect(executeCommand(['true'], { timeoutSeconds: Number.NaN })).rejects.toMatchObject({ code: 'FORMAT', field: 'timeoutSeconds' });
    expect(await executeCommand(['true'], { timeoutSeconds: Infinity })).toEqual({ 'return-value': 0, stderr: '', stdout: '' });
  });
});
