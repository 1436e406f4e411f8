// Types of suite.js (plain JavaScript, so that every runtime runs the very same file).
import type * as Lib from '../../bindings/entry/browser.js';
import type { Verdict, VerifyOptions } from '../../bindings/verify/verify.js';

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
export function conformanceCases(lib: typeof Lib, read: Read): Promise<Case[]>;
export function scenarioInputs(lib: typeof Lib, read: Read, s: Scenario): Promise<{ options: VerifyOptions; product?: { name: string; bytes: Uint8Array } }>;
export function checkVerdict(s: Scenario, verdict: Verdict, product?: { name: string; bytes: Uint8Array }): Promise<string | undefined>;
export function runCases(cases: Case[]): Promise<{ passed: number; failed: number; skipped: number; results: CaseResult[] }>;
