/**
 * `--vsa OUT --vsa-key KEY ...`: the signed SLSA VSA (bindings/attestation/vsa.ts) that in-toto-verify and
 * in-toto-attestation-verify write after every verification, pass or fail: the flags and their checks. Writing it is
 * vsa-write.ts, loaded only when a VSA is asked for (in-toto-verify starts without it).
 */
import type { KeyType } from '../keys/keys.js';
import { UsageError, type OptionSpec, type Parsed } from './args.js';

const KEY_TYPES: readonly KeyType[] = ['rsa', 'ed25519', 'ecdsa'];

export const VSA_OPTIONS: readonly OptionSpec[] = [
  { name: 'vsa', kind: 'one', metavar: 'FILE', help: 'write a signed SLSA VSA (DSSE) of the verdict here, pass or fail (needs --vsa-key, --resource-uri)' },
  { name: 'vsa-key', kind: 'one', metavar: 'FILE', help: 'the private key signing the VSA' },
  { name: 'vsa-key-type', kind: 'one', choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: "type of the --vsa-key: 'rsa' (PEM, the default), 'ed25519' or 'ecdsa' (securesystemslib JSON)" },
  { name: 'resource-uri', kind: 'one', metavar: 'URI', help: "the VSA's resourceUri: what was verified, as its consumers name it" },
  { name: 'verifier-id', kind: 'one', metavar: 'URI', help: "the VSA's verifier.id (default: this tool's URI)" },
  { name: 'verified-level', kind: 'many', extend: true, metavar: 'LEVEL', help: 'a level the VSA claims when verification passed (e.g. SLSA_BUILD_LEVEL_2); may be given more than once' },
  { name: 'now', kind: 'one', metavar: 'TIME', help: "verify as of this RFC 3339 time (expiry, and the VSA's timeVerified): the same inputs give the same VSA" },
];

/** What `--vsa` asks for; `undefined` when no VSA is to be written. */
export interface VsaRequest {
  readonly path: string;
  readonly keyPath: string;
  readonly keyType: KeyType;
  readonly resourceUri: string;
  readonly verifierId: string;
  readonly levels: readonly string[];
}

const first = (parsed: Parsed, name: string) => parsed.values.get(name)?.[0];

/** The VSA flags, checked together (`UsageError` for a flag without `--vsa`, or `--vsa` without its key or resource). */
export function readVsaRequest(parsed: Parsed, tool: string): VsaRequest | undefined {
  const path = first(parsed, 'vsa');
  const keyPath = first(parsed, 'vsa-key');
  const resourceUri = first(parsed, 'resource-uri');
  if (path === undefined) {
    const stray = ['vsa-key', 'vsa-key-type', 'resource-uri', 'verifier-id', 'verified-level'].filter((n) => parsed.values.has(n));
    if (stray.length > 0) throw new UsageError(`${stray.map((n) => `--${n}`).join(', ')}: only with --vsa`);
    return undefined;
  }
  if (keyPath === undefined || resourceUri === undefined) throw new UsageError('--vsa needs --vsa-key and --resource-uri');
  return {
    path,
    keyPath,
    keyType: (first(parsed, 'vsa-key-type') ?? 'rsa') as KeyType,
    resourceUri,
    verifierId: first(parsed, 'verifier-id') ?? `https://github.com/in-toto/in-toto-wasm/${tool}`,
    levels: parsed.values.get('verified-level') ?? [],
  };
}

/**
 * `--now`: an RFC 3339 time (UsageError otherwise, also for a date that does not exist: 2026-02-30 is not rolled over
 * into March), or `undefined` when not given.
 */
export function readNow(parsed: Parsed): Date | undefined {
  const text = first(parsed, 'now');
  if (text === undefined) return undefined;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(text);
  const bad = () => new UsageError(`--now: '${text}' is not an RFC 3339 time (e.g. 2026-12-07T12:00:00Z)`);
  if (!m) throw bad();
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) throw bad();
  const now = new Date(text.toUpperCase());
  if (Number.isNaN(now.getTime())) throw bad();
  return now;
}

/** Said when `--now` is not the clock's time: expiry is then judged at another time than the present. */
export function nowWarning(now: Date | undefined, tool: string): string | undefined {
  if (now === undefined || Math.abs(now.getTime() - Date.now()) < 86_400_000) return undefined;
  return `${tool}: verifying as of ${now.toISOString()} (--now), not the clock's ${new Date().toISOString()}: the layout's expiry is judged at that time\n`;
}
