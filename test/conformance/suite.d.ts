// Types of suite.js (plain JavaScript, so that every runtime runs the very same file).
import type * as Root from '../../bindings/entry/browser.js';
import type * as Sigstore from '../../bindings/sigstore/index.js';
import type * as Attestations from '../../bindings/verify/attestations.js';
import type { CelValue } from '../../bindings/attestation/cel.js';
import type { Verdict, VerifyOptions } from '../../bindings/verify/verify.js';

/** The package as a runtime imports it: its root, and its `/sigstore` and `/attestations` paths. */
export type Lib = typeof Root & { sigstore?: typeof Sigstore; attestations?: typeof Attestations };
export type Read = (path: string) => Promise<Uint8Array>;
export interface Case {
  group: string;
  name: string;
  /** A reason to skip (a crypto backend this runtime lacks), or undefined to run. */
  skip?(): Promise<string | undefined>;
  run(): Promise<void>;
}
export interface Scenario {
  id: string;
  name: string;
  expect: 'pass' | 'fail';
  codes?: string[];
  warnings?: string[];
  layout: string;
  layoutKeys: { file: string; keyType: 'ed25519' | 'rsa' | 'ecdsa' }[];
  linkDir: string;
  inspections: 'links' | 'skip' | 'none';
  product?: string;
  files: string[];
}
export interface CaseResult {
  group: string;
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  error?: string;
  ms: number;
}
/** One of cel-spec's tests as scripts/runtimes/cel-spec.mjs converts it: values in the engine's typed JSON. */
export interface CelSpecCase {
  file: string;
  section: string;
  name: string;
  expression: string;
  bindings: Record<string, Record<string, unknown>>;
  /** A typed value, or `{ error: true }`. */
  expected: Record<string, unknown>;
}
export function conformanceCases(lib: Lib, read: Read): Promise<Case[]>;
export function celValueOf(typed: Record<string, unknown>): CelValue;
export function celSpecProblem(attestations: typeof Attestations, c: CelSpecCase): string | undefined;
export function scenarioInputs(lib: Lib, read: Read, s: Scenario): Promise<{ options: VerifyOptions; product?: { name: string; bytes: Uint8Array } }>;
export function checkVerdict(s: Scenario, verdict: Verdict, product?: { name: string; bytes: Uint8Array }): Promise<string | undefined>;
export function runCases(cases: Case[]): Promise<{ passed: number; failed: number; skipped: number; results: CaseResult[] }>;
