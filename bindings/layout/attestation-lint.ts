/**
 * A linter for attestation layouts (ITE-10/11, bindings/verify/attestation-layout.ts): what the verifier would refuse,
 * and what it accepts but cannot be what the author meant. Findings have the codes and shape of the classic linter
 * (lint.ts, `LINT_CODES`):
 *
 * - the verifier's own refusal (ATTESTATION_LAYOUT_INVALID), found by reading the layout as it does;
 * - an expected predicate with no functionaries (PREDICATE_NO_FUNCTIONARIES), one naming a functionary the layout does
 *   not list (PUBKEY_NOT_IN_KEYS), a threshold above its distinct functionaries (THRESHOLD_UNREACHABLE), a functionary
 *   no step names (KEY_UNUSED): each reported, not only the first;
 * - a predicate type this package knows no producer of (PREDICATE_TYPE_UNKNOWN): a misspelt type matches nothing;
 * - CEL rules that do not parse or hold an invalid regular expression (CEL_SYNTAX, by the engine itself), rules that
 *   read a name no attestation gives (CEL_UNKNOWN_VARIABLE: `predicte.x`), rules that read nothing of the
 *   attestation (CEL_CONSTANT: `true` checks nothing), and rules that select a `predicate.` field the predicate
 *   type's schema does not have (CEL_UNKNOWN_FIELD: the rule can then only fail, or pass by `allowIfNoClaim`);
 * - step names no file can carry (STEP_NAME_UNFILEABLE: a `/`);
 * - MATCH rules naming no step (MATCH_UNKNOWN_STEP), product rules not closed by DISALLOW * (PRODUCTS_NOT_CLOSED),
 *   and expiry (LAYOUT_EXPIRED, LAYOUT_EXPIRES_SOON).
 */
import { evaluateCel } from '../attestation/cel.js';
import { LINK_V03, NPM_PUBLISH_V01, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1, TEST_RESULT_V01, VSA_V1 } from '../attestation/predicates.js';
import { InTotoError } from '../errors.js';
import { parseRule, type ArtifactRule } from '../metadata/rules.js';
import { readAttestationLayout } from '../verify/attestation-layout.js';
import { LINT_CODES, type LintCode, type LintFinding, type LintOptions } from './lint.js';

/** A predicate's known fields: a nested object, `OPEN` where any field may follow (parameters, environments). */
type Schema = { readonly [field: string]: Schema | typeof OPEN | typeof LEAF };
const OPEN = 'open';
const LEAF = 'leaf';

const SCHEMAS: Readonly<Record<string, Schema>> = {
  [SLSA_PROVENANCE_V1]: {
    buildDefinition: { buildType: LEAF, externalParameters: OPEN, internalParameters: OPEN, resolvedDependencies: LEAF },
    runDetails: {
      builder: { id: LEAF, builderDependencies: LEAF, version: OPEN },
      metadata: { invocationId: LEAF, startedOn: LEAF, finishedOn: LEAF },
      byproducts: LEAF,
    },
  },
  [SLSA_PROVENANCE_V02]: {
    builder: { id: LEAF },
    buildType: LEAF,
    invocation: { configSource: { uri: LEAF, digest: OPEN, entryPoint: LEAF }, parameters: OPEN, environment: OPEN },
    buildConfig: OPEN,
    metadata: { buildInvocationId: LEAF, buildStartedOn: LEAF, buildFinishedOn: LEAF, completeness: { parameters: LEAF, environment: LEAF, materials: LEAF }, reproducible: LEAF },
    materials: LEAF,
  },
  [LINK_V03]: { name: LEAF, command: LEAF, materials: LEAF, byproducts: OPEN, environment: OPEN },
  [TEST_RESULT_V01]: { result: LEAF, configuration: LEAF, url: LEAF, passedTests: LEAF, warnedTests: LEAF, failedTests: LEAF },
  [VSA_V1]: {
    verifier: { id: LEAF, version: OPEN },
    timeVerified: LEAF,
    resourceUri: LEAF,
    policy: { uri: LEAF, digest: OPEN, downloadLocation: LEAF },
    inputAttestations: LEAF,
    verificationResult: LEAF,
    verifiedLevels: LEAF,
    dependencyLevels: OPEN,
    slsaVersion: LEAF,
  },
  [NPM_PUBLISH_V01]: { name: LEAF, version: LEAF, registry: LEAF },
};

/** Predicate types with producers this package knows, whose schemas it does not check fields against. */
const KNOWN_UNCHECKED = [
  /^https:\/\/slsa\.dev\/provenance\/v0\.1$/,
  /^https:\/\/slsa\.dev\/verification_summary\/v0\.[12]$/,
  /^https:\/\/in-toto\.io\/attestation\/(link\/v0\.2|scai\/attribute-report\/v0\.[12]|runtime-trace\/v0\.1|vulns\/v0\.1|release\/v0\.1|reference\/v0\.1|test-result\/v0\.1)$/,
  /^https:\/\/spdx\.dev\/Document(\/v\d+(\.\d+)*)?$/,
  /^https:\/\/cyclonedx\.org\/(bom|vex)(\/v\d+(\.\d+)*)?$/,
  /^https:\/\/cosign\.sigstore\.dev\/attestation\/(v1|vuln\/v1)$/,
  /^https:\/\/in-toto\.io\/Statement\/v[01]$/,
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each identifier of a CEL expression outside its string and bytes literals, with where it starts and ends. */
function identifiers(expression: string): { word: string; start: number; end: number }[] {
  const out: { word: string; start: number; end: number }[] = [];
  let i = 0;
  const n = expression.length;
  while (i < n) {
    const c = expression[i]!;
    // String and bytes literals, raw or not, single or triple quoted: skipped whole.
    if (c === '"' || c === "'") {
      const raw = i > 0 && /[rR]/.test(expression[i - 1]!) && (i < 2 || !/[A-Za-z0-9_]/.test(expression[i - 2]!));
      const triple = expression.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      i += close.length;
      while (i < n && !expression.startsWith(close, i)) i += !raw && expression[i] === '\\' ? 2 : 1;
      i += close.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_]/.test(expression[i]!)) i++;
      // A literal's prefix (r"...", b'...') belongs to the literal, skipped next.
      if (!(i < n && (expression[i] === '"' || expression[i] === "'") && /^[rRbB]{1,2}$/.test(expression.slice(start, i)))) out.push({ word: expression.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9A-Za-z_.]/.test(expression[i]!)) i++; // a number, with its suffix (1u, 1e3, 0x1F)
      continue;
    }
    i++;
  }
  return out;
}

/**
 * The `predicate.a.b...` selections of a CEL expression, outside its string literals: each chain of plain field
 * selections, stopped at an index, a call (`.all(`), or anything else. A lexical scan, not a parse: enough to name the
 * fields a rule reads (the rule parsed already).
 */
export function predicateSelections(expression: string): string[][] {
  const chains: string[][] = [];
  for (const { word, start, end } of identifiers(expression)) {
    // `x.predicate` is a field of something else.
    if (word !== 'predicate' || expression.slice(0, start).trimEnd().endsWith('.')) continue;
    const chain: string[] = [];
    let i = end;
    for (;;) {
      const m = /^\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(expression.slice(i));
      if (!m) break;
      if (/^\s*\(/.test(expression.slice(i + m[0].length))) break; // a method or macro: not a field
      chain.push(m[1]!);
      i += m[0].length;
    }
    chains.push(chain);
  }
  return chains;
}

/** What a rule may name at its root: the Statement's variables, CEL's literals and type names. */
const ROOTS = new Set(['predicate', 'subject', 'predicateType', 'true', 'false', 'null', 'in', 'int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn', 'google']);

/**
 * Names a rule reads at its root that no attestation gives (`predicte.x`): every root identifier that is not a call,
 * not a variable of the Statement, and not bound by a macro (`subject.all(s, ...)` binds `s`).
 */
export function unknownRoots(expression: string): string[] {
  const bound = new Set([...expression.matchAll(/\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,/g)].map((m) => m[1]!));
  const unknown = new Set<string>();
  for (const { word, start, end } of identifiers(expression)) {
    if (expression.slice(0, start).trimEnd().endsWith('.')) continue; // a field or a method
    if (/^\s*\(/.test(expression.slice(end))) continue; // a function
    if (ROOTS.has(word) || bound.has(word)) continue;
    unknown.add(word);
  }
  return [...unknown];
}

/** The first field of `chain` the schema does not have, with the path up to it; `undefined` when all are known. */
function unknownField(schema: Schema, chain: readonly string[]): { path: string; field: string; known: string[] } | undefined {
  let at: Schema | typeof OPEN | typeof LEAF = schema;
  for (const [i, field] of chain.entries()) {
    if (at === OPEN || at === LEAF) return undefined; // below an open object, or into a value (a list's size, say): not checked
    if (!Object.hasOwn(at, field)) return { path: ['predicate', ...chain.slice(0, i)].join('.'), field, known: Object.keys(at) };
    at = at[field]!;
  }
  return undefined;
}

type Add = (code: LintCode, finding: Omit<LintFinding, 'code' | 'severity'>) => void;

/**
 * Lints an attestation layout: its document (`signed` of an envelope, or the YAML/JSON read), with the parameters
 * it is verified with, if any. Findings come in layout order.
 */
export function lintAttestationLayout(doc: unknown, options: LintOptions & { parameters?: Readonly<Record<string, string>> } = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const ignore = new Set(options.ignore ?? []);
  const add: Add = (code, finding) => {
    if (!ignore.has(code)) findings.push({ code, severity: LINT_CODES[code].severity, ...finding });
  };
  const layout = isRecord(doc) ? doc : {};
  const functionaries = isRecord(layout.functionaries) ? layout.functionaries : {};
  const steps = Array.isArray(layout.steps) ? layout.steps.filter(isRecord) : [];
  const stepNames = new Set(steps.map((s) => s.name).filter((n): n is string => typeof n === 'string'));
  const used = new Set<string>();
  const budget = { heavy: 0 };

  checkExpiry(layout.expires, options, add);
  for (const [s, step] of steps.entries()) {
    const name = typeof step.name === 'string' ? step.name : `#${s + 1}`;
    if (name.includes('/')) {
      add('STEP_NAME_UNFILEABLE', {
        message: `step '${name}' has a / in its name: no file of an attestations directory can be named for it (<step>.<anything>.json)`,
        risk: 'in-toto-attestation-verify -a DIR never finds its claims: the step fails every verification (only a map of names given to the API can reach it)',
        fix: 'name the step without /',
        field: `steps[${s}].name`,
        step: name,
      });
    }
    lintPredicates(step.expectedPredicates, `steps[${s}]`, `step '${name}'`, name, functionaries, used, budget, add);
    for (const side of ['Materials', 'Products'] as const) {
      const list = Array.isArray(step[`expected${side}`]) ? (step[`expected${side}`] as unknown[]) : [];
      const rules: (ArtifactRule | undefined)[] = list.map((text) => {
        try {
          // As the verifier splits it: at single spaces.
          return typeof text === 'string' ? parseRule(text.split(' '), { field: `steps[${s}].expected${side}`, step: name }) : undefined;
        } catch {
          return undefined; // the verifier's refusal says why
        }
      });
      for (const [r, rule] of rules.entries()) {
        if (rule?.type === 'MATCH' && !stepNames.has(rule.step)) {
          add('MATCH_UNKNOWN_STEP', {
            message: `step '${name}', expected${side} rule ${r + 1} '${list[r]}' names the step '${rule.step}', which the layout does not have`,
            risk: 'the rule consumes nothing: what it was meant to tie to another step passes on to the rules after it, unchecked',
            fix: `name one of the steps (${[...stepNames].join(', ')})`,
            field: `steps[${s}].expected${side}[${r}]`,
            step: name,
            rule: String(list[r]),
          });
        }
      }
      const last = rules.at(-1);
      if (side === 'Products' && rules.length > 0 && !(last?.type === 'DISALLOW' && /^\*+$/.test(last.pattern))) {
        add('PRODUCTS_NOT_CLOSED', {
          message: `step '${name}': its expectedProducts do not end in DISALLOW *`,
          risk: 'a product no rule names passes unchecked: a functionary can add files to what the step makes',
          fix: "end the step's expectedProducts with 'DISALLOW *'",
          field: `steps[${s}].expectedProducts`,
          step: name,
        });
      }
    }
  }
  const subjects = Array.isArray(layout.subjects) ? layout.subjects.filter(isRecord) : [];
  for (const [i, entry] of subjects.entries()) {
    const names = Array.isArray(entry.subject) ? entry.subject.filter((n): n is string => typeof n === 'string') : [];
    lintPredicates(entry.expectedPredicates, `subjects[${i}]`, `subjects[${i}] (${names.join(', ')})`, undefined, functionaries, used, budget, add);
  }
  for (const id of Object.keys(functionaries).filter((f) => !used.has(f))) {
    add('KEY_UNUSED', {
      message: `the functionary ${id} is not expected to make any predicate`,
      risk: 'none by itself; a functionary listed but unused is often one that a step was meant to name',
      fix: `name ${id} in a step's expectedPredicates, or remove it`,
      field: `functionaries.${id}`,
      keyid: id,
    });
  }
  // What the verifier itself refuses (its first reason), unless a finding above already names it.
  try {
    readAttestationLayout(doc, options.parameters);
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    if (!findings.some((f) => f.severity === 'error')) {
      add('ATTESTATION_LAYOUT_INVALID', {
        message: error.message,
        risk: 'in-toto-attestation-verify refuses the layout: every verification fails',
        fix: 'correct the field named (docs/attestation-layouts.md describes the format)',
        ...(error.field !== undefined ? { field: error.field } : {}),
      });
    }
  }
  return findings;
}

/** The expected predicates of a step or a subject entry (`at`: its field, `label`: how messages name it). */
function lintPredicates(list: unknown, at: string, label: string, name: string | undefined, functionaries: Record<string, unknown>, used: Set<string>, budget: { heavy: number }, add: Add): void {
  const predicates = Array.isArray(list) ? list.filter(isRecord) : [];
  for (const [p, expected] of predicates.entries()) {
    const field = `${at}.expectedPredicates[${p}]`;
    const type = typeof expected.predicateType === 'string' ? expected.predicateType : '';
    const ids = Array.isArray(expected.functionaries) ? expected.functionaries.filter((f): f is string => typeof f === 'string') : [];
    ids.forEach((id) => used.add(id));
    if (ids.length === 0) {
      add('PREDICATE_NO_FUNCTIONARIES', {
        message: `${label} expects ${type || 'a predicate'} from no functionary`,
        risk: 'no attestation can meet it: the layout fails every verification (the verifier refuses it outright)',
        fix: 'list the key ids or Sigstore identities (from functionaries) allowed to make it',
        field: `${field}.functionaries`,
        step: name,
      });
    }
    for (const id of ids.filter((f) => !Object.hasOwn(functionaries, f))) {
      add('PUBKEY_NOT_IN_KEYS', {
        message: `${label} expects ${type} from ${id}, which is not among the layout's functionaries`,
        risk: 'the verifier refuses the layout: it cannot check a signature by a functionary it has no key or identity for',
        fix: `add ${id} to functionaries, or remove it from the step`,
        field: `${field}.functionaries`,
        step: name,
        keyid: id,
      });
    }
    const distinct = new Set(ids).size;
    const threshold = expected.threshold ?? 1;
    if (typeof threshold === 'number' && distinct > 0 && threshold > distinct) {
      add('THRESHOLD_UNREACHABLE', {
        message: `${label} needs ${threshold} functionaries for ${type}, and lists ${distinct}`,
        risk: 'no set of attestations can meet the threshold: every verification fails',
        fix: `lower the threshold to at most ${distinct}, or list more functionaries`,
        field: `${field}.threshold`,
        step: name,
      });
    }
    const schema = Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type] : undefined;
    if (type !== '' && !schema && !KNOWN_UNCHECKED.some((re) => re.test(type))) {
      add('PREDICATE_TYPE_UNKNOWN', {
        message: `${label} expects the predicate type ${type}, which no producer this package knows writes`,
        risk: 'a misspelt type (a missing version, http for https) matches no attestation: the step then fails every verification, or a later fix changes what passes',
        fix: `check the type against what the producer writes (e.g. ${SLSA_PROVENANCE_V1}); ignore this code for a type of your own`,
        field: `${field}.predicateType`,
        step: name,
      });
    }
    const attributes = Array.isArray(expected.expectedAttributes) ? expected.expectedAttributes : [];
    for (const [a, attribute] of attributes.entries()) {
      const rule = isRecord(attribute) && typeof attribute.rule === 'string' ? attribute.rule : undefined;
      if (rule === undefined) continue;
      checkCel(rule, schema, { budget, label, name, type, field: `${field}.expectedAttributes[${a}].rule`, allowIfNoClaim: isRecord(attribute) && attribute.allowIfNoClaim === true }, add);
    }
  }
}

function checkExpiry(expires: unknown, options: LintOptions, add: Add): void {
  if (typeof expires !== 'string' || Number.isNaN(Date.parse(expires))) return; // the verifier's refusal says why
  const now = (options.now ?? new Date()).getTime();
  const at = Date.parse(expires);
  const days = options.expiresSoonDays ?? 30;
  if (at <= now) {
    add('LAYOUT_EXPIRED', { message: `the layout expired at ${expires}`, risk: 'every verification fails (EXPIRED) until a new layout is signed', fix: 'review the layout, set a later expires and sign it again', field: 'expires' });
  } else if (at - now < days * 86400e3) {
    add('LAYOUT_EXPIRES_SOON', { message: `the layout expires at ${expires}, in ${Math.floor((at - now) / 86400e3)} days`, risk: 'once it expires every verification fails', fix: 'set a later expires and sign the layout again', field: 'expires' });
  }
}

/** Rules that may run into the engine's step limit before the others are only parsed. */
const MAX_HEAVY_RULES = 8;

function checkCel(rule: string, schema: Schema | undefined, at: { label: string; name: string | undefined; type: string; field: string; allowIfNoClaim: boolean; budget: { heavy: number } }, add: Add): void {
  const where = { field: at.field, step: at.name, rule };
  // Parsed by the engine: a rule that does not parse is refused before any variable is looked at. Without variables
  // a rule that reads the attestation stops at its first reference; one that gives a value reads nothing. A rule that
  // computes much before reading anything costs up to the engine's step limit (~50 ms): after a few such rules, the
  // rest are only parsed (`false && (rule)` parses it whole and evaluates nothing).
  let alone;
  try {
    if (at.budget.heavy >= MAX_HEAVY_RULES) {
      evaluateCel(`false && (${rule})`, {});
      return;
    }
    alone = evaluateCel(rule, {});
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    // A limit (a costly constant expression) says nothing about the rule's syntax: judged at verification.
    if (error.code === 'LIMIT') {
      at.budget.heavy++;
      return;
    }
    add('CEL_SYNTAX', {
      message: `${at.label}, ${at.type}: the rule \`${rule}\` does not parse: ${error.message}`,
      risk: 'the rule fails for every attestation: the step can never pass',
      fix: 'correct the expression (docs/cel.md lists what the engine evaluates)',
      ...where,
    });
    return;
  }
  if ('value' in alone) {
    const always = alone.value.type === 'bool' ? String(alone.value.value) : `a ${alone.value.type}, never true`;
    add('CEL_CONSTANT', {
      message: `${at.label}, ${at.type}: the rule \`${rule}\` reads nothing of the attestation: it is always ${always}`,
      risk: alone.value.type === 'bool' && alone.value.value ? 'the rule checks nothing: whatever the attestation says, it passes' : 'the rule fails for every attestation: the step can never pass',
      fix: 'compare a field of predicate, subject or predicateType',
      ...where,
    });
    return;
  }
  if (alone.error.startsWith('invalid regular expression')) {
    add('CEL_SYNTAX', {
      message: `${at.label}, ${at.type}: the rule \`${rule}\` has an invalid regular expression: ${alone.error}`,
      risk: 'the match is an error for every attestation: the rule fails every time',
      fix: 'correct the pattern (RE2 syntax: docs/cel.md)',
      ...where,
    });
    return;
  }
  // A pattern written as a literal is compiled here: an invalid one fails every match.
  for (const m of rule.matchAll(/\.\s*matches\s*\(\s*([rR]?(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))\s*\)/g)) {
    let compiled;
    try {
      compiled = evaluateCel(`''.matches(${m[1]})`, {});
    } catch {
      continue; // not a literal after all: judged at verification
    }
    if ('error' in compiled && compiled.error.startsWith('invalid regular expression')) {
      add('CEL_SYNTAX', {
        message: `${at.label}, ${at.type}: the rule \`${rule}\` matches against ${m[1]}, an invalid regular expression: ${compiled.error}`,
        risk: 'the match is an error for every attestation: the rule fails every time',
        fix: 'correct the pattern (RE2 syntax: docs/cel.md)',
        ...where,
      });
      return;
    }
  }
  const unknownNames = unknownRoots(rule);
  if (unknownNames.length > 0) {
    add('CEL_UNKNOWN_VARIABLE', {
      message: `${at.label}, ${at.type}: the rule \`${rule}\` reads ${unknownNames.map((n) => `'${n}'`).join(', ')}, which no attestation gives (a rule reads predicate, subject and predicateType)`,
      risk: 'an undeclared reference is an error for every attestation: the rule fails every time',
      fix: 'mind the spelling: predicate, subject, predicateType',
      ...where,
    });
    return;
  }
  if (!schema) return;
  for (const chain of predicateSelections(rule)) {
    const unknown = unknownField(schema, chain);
    if (!unknown) continue;
    add('CEL_UNKNOWN_FIELD', {
      message: `${at.label}, ${at.type}: the rule \`${rule}\` selects ${unknown.path}.${unknown.field}, which ${at.type} does not have (${unknown.path} has ${unknown.known.join(', ')})`,
      risk: at.allowIfNoClaim
        ? 'with allowIfNoClaim the rule is skipped for every attestation: it checks nothing'
        : 'the field is absent from every conforming attestation: the rule fails every time',
      fix: 'select a field the predicate type defines (mind the spelling and the nesting)',
      ...where,
    });
    return;
  }
}
