/**
 * Running a step's command (Node only) and recording its byproducts, as in-toto 1.3.1's
 * `runlib.execute_link` does with securesystemslib 0.26's `process.run` / `run_duplicate_streams`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InTotoError } from '../errors.js';

/** The reference's `settings.LINK_CMD_EXEC_TIMEOUT`, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** What a link holds as `byproducts` for a command that ran. */
export interface Byproducts {
  'return-value': number;
  stderr: string;
  stdout: string;
}

export interface ExecuteOptions {
  /**
   * Record the command's stdout and stderr. Without it the reference sends both to /dev/null and records
   * empty strings; so do we.
   */
  recordStreams?: boolean;
  /**
   * Also copy the recorded streams to this process's stdout and stderr while the command runs, as the
   * reference's tools do (`run_duplicate_streams`). Off by default: a library should not write to the
   * console unless asked. Has no effect without `recordStreams`.
   */
  echo?: boolean;
  /**
   * Kill the command (SIGKILL, the command only, not its children) after this many seconds and throw
   * `LIMIT`, as the reference raises TimeoutExpired. Default {@link DEFAULT_TIMEOUT_SECONDS}; `Infinity` for none.
   */
  timeoutSeconds?: number;
  /** Working directory of the command (default: this process's). The reference runs it in its own. */
  cwd?: string;
  /** Environment of the command (default: this process's, as the reference passes its own). */
  env?: NodeJS.ProcessEnv;
}

// setTimeout fires at once for delays above 2^31 - 1 ms; longer timeouts are waited for in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;
const ECHO_INTERVAL_MS = 50;

/**
 * Runs `argv` (no shell; the program is looked up in PATH) with stdin inherited, and returns its byproducts.
 *
 * As the reference:
 * - the return value is the exit code, or minus the number of the signal that ended the command;
 * - recorded streams are decoded as UTF-8 (the reference uses the locale's encoding, UTF-8 on any UTF-8
 *   locale) and strictly: output that is not UTF-8 is an error, as the reference's UnicodeDecodeError;
 * - line endings in recorded streams read as python's universal newlines: CRLF and CR become LF;
 * - a command that cannot be started is an error (the reference raises FileNotFoundError or
 *   PermissionError), and so is a timeout.
 * An empty `argv` is refused: the reference's tools record `byproducts: {}` for no command without calling
 * this (`in-toto-run --no-command`), and its `execute_link([])` fails with an IndexError.
 *
 * Like the reference, recorded streams go to temporary files rather than pipes: the command cannot block on
 * a full pipe, and once it exits we return, even if something it started in the background still holds
 * the files open.
 */
export async function executeCommand(argv: readonly string[], options: ExecuteOptions = {}): Promise<Byproducts> {
  checkArgv(argv);
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeoutSeconds !== 'number' || Number.isNaN(timeoutSeconds) || timeoutSeconds < 0) {
    throw new InTotoError('FORMAT', `timeoutSeconds must be a number of seconds (0 or more, or Infinity), got ${timeoutSeconds}`, { field: 'timeoutSeconds' });
  }
  if (!options.recordStreams) {
    const returnValue = await run(argv, options, timeoutSeconds, 'ignore', 'ignore');
    return { 'return-value': returnValue, stderr: '', stdout: '' };
  }

  const dir = await mkdtemp(join(tmpdir(), 'in-toto-run-'));
  const paths = { stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') };
  let stdout: FileHandle | undefined;
  let stderr: FileHandle | undefined;
  try {
    stdout = await open(paths.stdout, 'w+');
    stderr = await open(paths.stderr, 'w+');
    const echo = options.echo ? new Echo([new Tail(stdout, process.stdout), new Tail(stderr, process.stderr)]) : undefined;
    let returnValue: number;
    try {
      returnValue = await run(argv, options, timeoutSeconds, stdout.fd, stderr.fd);
    } finally {
      await echo?.stop();
    }
    // stdout first: the reference reads it first, so its decoding error is the one raised when both fail.
    const stdoutText = decodeStream(await readFile(paths.stdout), 'stdout');
    return { 'return-value': returnValue, stderr: decodeStream(await readFile(paths.stderr), 'stderr'), stdout: stdoutText };
  } finally {
    await stdout?.close();
    await stderr?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts the command and resolves with its return value once it exits; rejects on failure to start or timeout. */
function run(argv: readonly string[], options: ExecuteOptions, timeoutSeconds: number, stdout: 'ignore' | number, stderr: 'ignore' | number): Promise<number> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['inherit', stdout, stderr] });
    let timedOut = false;
    const cancelTimer = startTimer(timeoutSeconds * 1000, () => {
      timedOut = true;
      child.kill('SIGKILL');
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      cancelTimer();
      reject(
        new InTotoError('IO', `cannot run ${JSON.stringify(command)}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`, { field: 'argv[0]', path: command }, { cause: error }),
      );
    });
    child.once('exit', (code, signal) => {
      cancelTimer();
      // As the reference, a command that ends on its own just as the time runs out still counts as timed out.
      if (timedOut) reject(new InTotoError('LIMIT', `command ${JSON.stringify(argv)} timed out after ${timeoutSeconds} seconds; allow it longer with the IN_TOTO_LINK_CMD_EXEC_TIMEOUT setting (seconds; the tools read it from the environment or an rc file, as the reference does) or, from the library, timeoutSeconds`, { field: 'timeoutSeconds' }));
      else resolve(code ?? -osConstants.signals[signal!]);
    });
  });
}

function startTimer(ms: number, onExpire: () => void): () => void {
  if (ms === Infinity) return () => {};
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = deadline - performance.now();
    if (left <= 0) onExpire();
    else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

// ignoreBOM keeps a leading U+FEFF, as python's 'utf-8' codec does (TextDecoder would drop it otherwise).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeStream(bytes: Uint8Array, stream: 'stdout' | 'stderr'): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new InTotoError('FORMAT', `the command's ${stream} is not UTF-8 text, so it cannot be recorded (the reference fails too)`, { field: stream }, { cause: error });
  }
  // python's universal newlines, which the reference reads the streams with.
  return text.replace(/\r\n?/g, '\n');
}

function checkArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0) throw new InTotoError('FORMAT', 'the command must be a non-empty list of strings', { field: 'argv' });
  argv.forEach((arg, i) => {
    if (typeof arg !== 'string') throw new InTotoError('FORMAT', `argv[${i}] must be a string`, { field: `argv[${i}]` });
    // execve cannot pass a NUL; python refuses with "embedded null byte".
    if (arg.includes('\0')) throw new InTotoError('FORMAT', `argv[${i}] contains a NUL character`, { field: `argv[${i}]` });
  });
}

/** Copies what the command appends to one of its output files to a stream of ours. */
class Tail {
  private offset = 0;
  private readonly buffer = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly file: FileHandle,
    private readonly to: NodeJS.WritableStream,
  ) {}

  async pump(): Promise<void> {
    for (;;) {
      // Positional reads: the command shares the file offset of this descriptor, which we must not move.
      const { bytesRead } = await this.file.read(this.buffer, 0, this.buffer.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      this.to.write(Buffer.from(this.buffer.subarray(0, bytesRead)));
    }
  }
}

/** Pumps the tails every few milliseconds while the command runs, and once more after it exits. */
class Echo {
  private pumping: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly tails: readonly Tail[]) {
    // A failed copy is reported by stop(), which awaits the same chain.
    this.timer = setInterval(() => this.pumpAll().catch(() => {}), ECHO_INTERVAL_MS);
  }

  private pumpAll(): Promise<void> {
    this.pumping = this.pumping.then(() => Promise.all(this.tails.map((tail) => tail.pump()))).then(() => {});
    return this.pumping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pumpAll();
  }
}
