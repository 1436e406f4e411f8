/**
 * A linter for layouts: what a layout says that is legal (the verifier accepts it) but probably not what
 * its author meant, or weaker than it looks. Each finding has a stable `code`, a `severity`, what was found
 * (`message`), why it matters (`risk`) and what to do about it (`fix`), and names the step, side, rule and
 * key it concerns.
 *
 * The checks rest on how in-toto 1.3.1 verifies (see verifylib.py and the project's semantics notes):
 * artifact rules consume a queue, a step's rules cannot see inspections, a MATCH naming a step without a
 * link consumes nothing, and links only count when signed by a key the layout lists. Whether a pattern can
 * match what another step may have produced is decided with the engine's own fnmatch (`matchGlob`).
 */
import { InTotoError } from '../errors.js';
import { keyidCandidates, publicKeyFromDict } from '../keys/keys.js';
import { gpgKeyFromDict, isGpgKeyDict } from '../keys/openpgp/key.js';
import { parseLayout, type Inspection, type Layout, type LayoutJSON, type Step } from '../metadata/models.js';
import { matchGlob } from '../verify/rule-engine.js';
import type { ArtifactRule, MatchRule } from '../metadata/rules.js';

export type LintSeverity = 'error' | 'warning';

/** Every finding code. Stable: tools may switch on them and suppress them by name. */
export type LintCode =
  | 'PRODUCTS_NOT_CLOSED'
  | 'PRODUCT_UNCHECKED'
  | 'MATCH_UNKNOWN_STEP'
  | 'MATCH_FROM_INSPECTION'
  | 'PATTERN_NEVER_MATCHES'
  | 'RULE_UNREACHABLE'
  | 'RULE_INEFFECTIVE'
  | 'THRESHOLD_UNREACHABLE'
  | 'PUBKEY_NOT_IN_KEYS'
  | 'KEY_UNUSED'
  | 'KEY_INVALID'
  | 'LAYOUT_EXPIRED'
  | 'LAYOUT_EXPIRES_SOON'
  // Attestation layouts (attestation-lint.ts)
  | 'ATTESTATION_LAYOUT_INVALID'
  | 'PREDICATE_NO_FUNCTIONARIES'
  | 'PREDICATE_TYPE_UNKNOWN'
  | 'CEL_SYNTAX'
  | 'CEL_UNKNOWN_FIELD'
  | 'CEL_UNKNOWN_VARIABLE'
  | 'CEL_CONSTANT'
  | 'STEP_NAME_UNFILEABLE';

/** What each code means, for documentation and `in-toto-layout lint --codes`. */
export const LINT_CODES: Readonly<Record<LintCode, { readonly severity: LintSeverity; readonly summary: string }>> = {
  PRODUCTS_NOT_CLOSED: { severity: 'warning', summary: "a step's product rules do not end in DISALLOW *" },
  PRODUCT_UNCHECKED: { severity: 'warning', summary: "no inspection compares the files being verified with a step's products" },
  MATCH_UNKNOWN_STEP: { severity: 'error', summary: 'a MATCH rule names a step that does not exist' },
  MATCH_FROM_INSPECTION: { severity: 'error', summary: "a step's MATCH rule names an inspection, which step rules cannot see" },
  PATTERN_NEVER_MATCHES: { severity: 'error', summary: "a MATCH pattern can never match what the named step's rules let it record" },
  RULE_UNREACHABLE: { severity: 'warning', summary: 'a rule comes after ALLOW * or DISALLOW *, after which nothing can remain' },
  RULE_INEFFECTIVE: { severity: 'warning', summary: 'CREATE among materials or DELETE among products, which never consume anything' },
  THRESHOLD_UNREACHABLE: { severity: 'error', summary: "a step's threshold is larger than the number of its distinct pubkeys" },
  PUBKEY_NOT_IN_KEYS: { severity: 'error', summary: "a step authorizes a key id that is not in the layout's keys" },
  KEY_UNUSED: { severity: 'warning', summary: "a key in the layout's keys is not authorized for any step" },
  KEY_INVALID: { severity: 'error', summary: "a key in the layout's keys cannot be read, or is listed under another key's id" },
  LAYOUT_EXPIRED: { severity: 'error', summary: 'the layout has expired' },
  LAYOUT_EXPIRES_SOON: { severity: 'warning', summary: 'the layout expires within the warning period (30 days by default)' },
  ATTESTATION_LAYOUT_INVALID: { severity: 'error', summary: 'in-toto-attestation-verify refuses the attestation layout (the reason is given)' },
  PREDICATE_NO_FUNCTIONARIES: { severity: 'error', summary: "an attestation layout's expected predicate names no functionaries, so nothing can meet it" },
  PREDICATE_TYPE_UNKNOWN: { severity: 'warning', summary: 'an expected predicate type this package knows no producer of (a misspelt type matches no attestation)' },
  CEL_SYNTAX: { severity: 'error', summary: 'a CEL rule (expectedAttributes) does not parse' },
  CEL_UNKNOWN_FIELD: { severity: 'warning', summary: "a CEL rule selects a predicate field the predicate type's schema does not have" },
  CEL_UNKNOWN_VARIABLE: { severity: 'error', summary: 'a CEL rule reads a name no attestation gives (only predicate, subject and predicateType exist)' },
  CEL_CONSTANT: { severity: 'warning', summary: 'a CEL rule reads nothing of the attestation: always true (checks nothing) or never true' },
  STEP_NAME_UNFILEABLE: { severity: 'warning', summary: 'a step name no attestation file in a directory can carry (a / in it)' },
};

export interface LintFinding {
  readonly code: LintCode;
  readonly severity: LintSeverity;
  /** What was found. */
  readonly message: string;
  /** Why it matters: what an attacker or an honest mistake can do because of it. */
  readonly risk: string;
  /** What to change. */
  readonly fix: string;
  /** The field concerned, e.g. `steps[1].expected_products[2]`. */
  readonly field?: string;
  readonly step?: string;
  readonly kind?: 'step' | 'inspection';
  readonly side?: 'materials' | 'products';
  readonly ruleIndex?: number;
  /** The rule as written (tokens joined by spaces). */
  readonly rule?: string;
  readonly keyid?: string;
}

export interface LintOptions {
  /** The clock for expiry checks (default: now). */
  now?: Date;
  /** LAYOUT_EXPIRES_SOON is reported when the layout expires within this many days (default 30). */
  expiresSoonDays?: number;
  /** Codes not to report. */
  ignore?: readonly LintCode[];
}

type Item = Step | Inspection;
type Side = 'materials' | 'products';
const SIDES: readonly Side[] = ['materials', 'products'];

const rulesOf = (item: Item, side: Side): readonly ArtifactRule[] => (side === 'materials' ? item.expectedMaterials : item.expectedProducts);
const ruleText = (rule: ArtifactRule): string => rule.tokens.join(' ');
const keyword = (rule: ArtifactRule): string => rule.tokens[0]!.toUpperCase();
/** `*`, `**`, ...: matches every path (python merges consecutive stars). */
const matchesEverything = (pattern: string): boolean => /^\*+$/.test(pattern);
const isDisallowAll = (rule: ArtifactRule): boolean => rule.type === 'DISALLOW' && matchesEverything(rule.pattern);
const consumesAll = (rule: ArtifactRule): boolean => (rule.type === 'ALLOW' || rule.type === 'DISALLOW') && matchesEverything(rule.pattern);
const fieldOf = (item: Item, index: number, side?: Side, ruleIndex?: number): string => {
  const base = `${item.type === 'step' ? 'steps' : 'inspect'}[${index}]`;
  return side === undefined ? base : `${base}.expected_${side}${ruleIndex === undefined ? '' : `[${ruleIndex}]`}`;
};
const itemLabel = (item: Item): string => `${item.type} '${item.name}'`;
const ruleLabel = (item: Item, side: Side, ruleIndex: number, rule: ArtifactRule): string =>
  `${itemLabel(item)}, ${side} rule ${ruleIndex + 1} '${ruleText(rule)}'`;

/** Lints a layout (the model, or its `signed` object). Findings come in layout order. */
export function lintLayout(layout: Layout | LayoutJSON, options: LintOptions = {}): LintFinding[] {
  const model: Layout = 'type' in layout ? layout : parseLayout(layout);
  const findings: LintFinding[] = [];
  const ignore = new Set(options.ignore ?? []);
  const add = (code: LintCode, finding: Omit<LintFinding, 'code' | 'severity'>) => {
    if (!ignore.has(code)) findings.push({ code, severity: LINT_CODES[code].severity, ...finding });
  };

  checkExpiry(model, options, add);
  checkKeys(model, add);
  const steps = new Map(model.steps.map((s) => [s.name, s] as const));
  const inspections = new Map(model.inspect.map((i) => [i.name, i] as const));
  const items: [Item, number][] = [...model.steps.map((s, i) => [s, i] as [Item, number]), ...model.inspect.map((s, i) => [s, i] as [Item, number])];
  for (const [item, index] of items) {
    if (item.type === 'step') checkFunctionaries(model, item, index, add);
    for (const side of SIDES) checkRules(item, index, side, steps, inspections, add);
    if (item.type === 'step') checkClosed(item, index, add);
  }
  checkDelivered(model, add);
  return findings;
}

type Add = (code: LintCode, finding: Omit<LintFinding, 'code' | 'severity'>) => void;

// ---------------------------------------------------------------------------------------------------------
// Expiry and keys

function checkExpiry(layout: Layout, options: LintOptions, add: Add): void {
  const now = (options.now ?? new Date()).getTime();
  const expires = Date.parse(layout.expires);
  const days = options.expiresSoonDays ?? 30;
  if (expires < now) {
    add('LAYOUT_EXPIRED', {
      message: `the layout expired at ${layout.expires}`,
      risk: 'every verification fails (LAYOUT_EXPIRED) until a new layout is signed; an expired layout may also describe a supply chain that changed since',
      fix: 'review the layout, set a new expiry (in-toto-layout set-expiry --in 6m) and sign it again',
      field: 'expires',
    });
  } else if (expires - now < days * 86400e3) {
    const left = Math.floor((expires - now) / 86400e3);
    add('LAYOUT_EXPIRES_SOON', {
      message: `the layout expires at ${layout.expires}, in ${left === 0 ? 'less than a day' : `${left} day${left === 1 ? '' : 's'}`}`,
      risk: 'once it expires every verification fails, and pipelines stop shipping until a new layout is signed and distributed',
      fix: 'plan the renewal now: set a new expiry (in-toto-layout set-expiry --in 6m) and sign the layout again',
      field: 'expires',
    });
  }
}

function checkKeys(layout: Layout, add: Add): void {
  const used = new Set(layout.steps.flatMap((s) => s.pubkeys));
  // An OpenPGP key is used when one of its subkeys is authorized.
  for (const [keyid, dict] of Object.entries(layout.keys)) {
    if (isGpgKeyDict(dict) && Object.keys((dict as { subkeys?: object }).subkeys ?? {}).some((id) => [...used].some((u) => u.toLowerCase() === id.toLowerCase()))) used.add(keyid);
  }
  for (const [keyid, dict] of Object.entries(layout.keys)) {
    const field = `keys[${JSON.stringify(keyid)}]`;
    try {
      // The ids the key itself has (not the one it is listed under, which a key dict may repeat as `keyid`); an
      // OpenPGP key's id is its fingerprint, as the verifier reads it.
      const ids = isGpgKeyDict(dict) ? [gpgKeyFromDict(dict, field).keyid] : keyidCandidates((({ keyid: _listed, ...key }) => key)(publicKeyFromDict(dict)));
      if (!ids.includes(isGpgKeyDict(dict) ? keyid.toLowerCase() : keyid)) {
        add('KEY_INVALID', {
          message: `the key listed under ${keyid} is a different key`,
          risk: 'the verifier refuses it (KEY): no link signed by this functionary counts, so the steps it is authorized for cannot pass',
          fix: "list the key under its own id: add it again from its public key file (in-toto-layout add-key), which computes the id",
          field,
          keyid,
        });
        continue;
      }
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      add('KEY_INVALID', {
        message: `the key listed under ${keyid} cannot be read: ${error.message}`,
        risk: 'the verifier refuses it (KEY): no link signed by this functionary counts, so the steps it is authorized for cannot pass',
        fix: 'replace it with the public key as in-toto-keygen wrote it (in-toto-layout add-key)',
        field,
        keyid,
      });
      continue;
    }
    if (!used.has(keyid)) {
      add('KEY_UNUSED', {
        message: `key ${keyid} is in the layout's keys but no step lists it in its pubkeys`,
        risk: 'it authorizes nothing; usually a step was meant to list it (a functionary whose links will never count) or it is left over from a former functionary',
        fix: "add its id to the pubkeys of the step it signs for (in-toto-layout add-key --step NAME), or remove it from keys",
        field,
        keyid,
      });
    }
  }
}

/** Whether `keyid` is a subkey of an OpenPGP key in the layout's keys (the verifier counts its links for the key). */
function isOpenPgpSubkey(layout: Layout, keyid: string): boolean {
  return Object.values(layout.keys).some((dict) => isGpgKeyDict(dict) && Object.keys((dict as { subkeys?: object }).subkeys ?? {}).some((id) => id.toLowerCase() === keyid.toLowerCase()));
}

function checkFunctionaries(layout: Layout, step: Step, index: number, add: Add): void {
  const field = fieldOf(step, index);
  for (const keyid of new Set(step.pubkeys)) {
    if (!Object.hasOwn(layout.keys, keyid) && !isOpenPgpSubkey(layout, keyid)) {
      add('PUBKEY_NOT_IN_KEYS', {
        message: `${itemLabel(step)} authorizes key ${keyid}, which is not in the layout's keys`,
        risk: 'links signed by that key are refused, so this functionary can never contribute to the threshold',
        fix: "add the functionary's public key to the layout (in-toto-layout add-key FILE --step NAME), or correct the id",
        field: `${field}.pubkeys`,
        step: step.name,
        kind: 'step',
        keyid,
      });
    }
  }
  const distinct = new Set(step.pubkeys).size;
  if (step.threshold > distinct) {
    add('THRESHOLD_UNREACHABLE', {
      message: `${itemLabel(step)} needs links from ${step.threshold} functionar${step.threshold === 1 ? 'y' : 'ies'} but authorizes ${distinct === 0 ? 'none' : `only ${distinct}`}`,
      risk: 'the step can never gather enough signed links: every verification fails (LINK_MISSING or THRESHOLD)',
      fix: distinct === 0 ? "authorize the step's functionaries (pubkeys)" : `lower the threshold to at most ${distinct}, or authorize more functionaries`,
      field: `${field}.threshold`,
      step: step.name,
      kind: 'step',
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Rules

function checkClosed(step: Step, index: number, add: Add): void {
  const rules = step.expectedProducts;
  const last = rules[rules.length - 1];
  if (last !== undefined && isDisallowAll(last)) return;
  add('PRODUCTS_NOT_CLOSED', {
    message: `${itemLabel(step)}: ${last === undefined ? "it has no product rules, so they do not end in 'DISALLOW *'" : `its product rules end in '${ruleText(last)}', not in 'DISALLOW *'`}`,
    risk: "anything else the functionary's link reports as a product is allowed by the implicit ALLOW * at the end: an extra or replaced file passes unnoticed, and in-toto's security analysis assumes every product was accounted for",
    fix: "name what the step may produce (CREATE, MODIFY, ALLOW, MATCH) and end its product rules with 'DISALLOW *'",
    field: fieldOf(step, index, 'products'),
    step: step.name,
    kind: 'step',
    side: 'products',
  });
}

/**
 * Links are compared with each other, never with the files a verifier is about to use: only an inspection,
 * which records the verifier's directory, can tie those files to the chain. Without one that MATCHes some step's
 * products, replacing the delivered product goes unnoticed (as a newcomer's first layout showed).
 */
function checkDelivered(layout: Layout, add: Add): void {
  const last = layout.steps[layout.steps.length - 1];
  if (last === undefined) return;
  const tied = layout.inspect.some((inspection) =>
    SIDES.some((side) => rulesOf(inspection, side).some((rule) => rule.type === 'MATCH' && rule.dstType === 'PRODUCTS' && layout.steps.some((s) => s.name === rule.step))),
  );
  if (tied) return;
  add('PRODUCT_UNCHECKED', {
    message: `no inspection MATCHes the files being verified WITH PRODUCTS FROM a step${layout.inspect.length === 0 ? ' (the layout has no inspections)' : ''}`,
    risk: 'verification checks that the links agree with one another, not that the files you are about to use are the ones the chain produced: a replaced product passes unless something compares it',
    fix: `add an inspection that records the delivered files and MATCHes them WITH PRODUCTS FROM the step that made them (e.g. '${last.name}'; the in-toto demo's 'untar' does this for foo.tar.gz), or compare the files with the verdict's summary yourself`,
    field: 'inspect',
  });
}

function checkRules(
  item: Item,
  index: number,
  side: Side,
  steps: ReadonlyMap<string, Step>,
  inspections: ReadonlyMap<string, Inspection>,
  add: Add,
): void {
  const rules = rulesOf(item, side);
  const at = (ruleIndex: number, rule: ArtifactRule) => ({
    field: fieldOf(item, index, side, ruleIndex),
    step: item.name,
    kind: item.type,
    side,
    ruleIndex,
    rule: ruleText(rule),
  });

  // Rules after one that leaves the queue empty.
  const closer = rules.findIndex(consumesAll);
  if (closer >= 0 && closer < rules.length - 1) {
    const first = closer + 1;
    const dead = rules.slice(first);
    const disallows = dead.filter((r) => r.type === 'DISALLOW' || r.type === 'REQUIRE');
    const closing = rules[closer]!;
    add('RULE_UNREACHABLE', {
      message: `${itemLabel(item)}, ${side} rule${dead.length === 1 ? '' : 's'} ${first + 1}${dead.length === 1 ? '' : `-${rules.length}`} ${dead.length === 1 ? 'comes' : 'come'} after rule ${closer + 1} '${ruleText(closing)}', after which no artifact remains in the queue`,
      risk:
        closing.type === 'ALLOW'
          ? `'ALLOW *' has already accepted every artifact${disallows.length > 0 ? `, so ${disallows.map((r) => `'${ruleText(r)}'`).join(', ')} never protect${disallows.length === 1 ? 's' : ''} anything${disallows.some((r) => r.type === 'REQUIRE') ? ' (and a REQUIRE after it always fails)' : ''}` : ': the later rules check nothing'}`
          : `'DISALLOW *' either failed or left nothing: the later rules check nothing${disallows.some((r) => r.type === 'REQUIRE') ? ' (and a REQUIRE after it always fails)' : ''}, though a reader may think they do`,
      fix: `move ${dead.length === 1 ? `rule ${first + 1}` : `rules ${first + 1}-${rules.length}`} before rule ${closer + 1}, or delete ${dead.length === 1 ? 'it' : 'them'}`,
      ...at(first, rules[first]!),
    });
  }

  rules.forEach((rule, ruleIndex) => {
    if ((rule.type === 'CREATE' && side === 'materials') || (rule.type === 'DELETE' && side === 'products')) {
      const other = rule.type === 'CREATE' ? 'products' : 'materials';
      add('RULE_INEFFECTIVE', {
        message: `${ruleLabel(item, side, ruleIndex, rule)} can never consume anything`,
        risk: `${keyword(rule)} consumes artifacts that are ${rule.type === 'CREATE' ? 'products but not materials' : 'materials but not products'}, and every artifact on the ${side} side is a ${side === 'materials' ? 'material' : 'product'}: the rule has no effect, so what it was meant to account for is left to the later rules (or to the implicit ALLOW *)`,
        fix: `put the ${keyword(rule)} rule among the ${other} rules`,
        ...at(ruleIndex, rule),
      });
    }
    if (rule.type !== 'MATCH') return;
    const source = steps.get(rule.step);
    if (source === undefined) {
      if (inspections.has(rule.step)) {
        if (item.type === 'step') {
          add('MATCH_FROM_INSPECTION', {
            message: `${ruleLabel(item, side, ruleIndex, rule)} names inspection '${rule.step}'`,
            risk: 'step rules are checked before any inspection runs and only see step links: the rule never matches, so the artifacts it was meant to tie to the inspection are not checked by it',
            fix: `match against the step whose link records those artifacts, or move the check into an inspection (inspections may MATCH FROM other inspections)`,
            ...at(ruleIndex, rule),
          });
          return;
        }
        checkPatternCanMatch(item, side, ruleIndex, rule, inspections.get(rule.step)!, at(ruleIndex, rule), add);
        return;
      }
      add('MATCH_UNKNOWN_STEP', {
        message: `${ruleLabel(item, side, ruleIndex, rule)} names '${rule.step}', which is no step${item.type === 'inspection' ? ' or inspection' : ''} of this layout`,
        risk: 'a MATCH against a missing link consumes nothing, silently: the artifacts are not tied to any other step, and fall through to the later rules (an ALLOW lets them pass unchecked)',
        fix: `correct the name (steps: ${[...steps.keys()].map((s) => `'${s}'`).join(', ') || 'none'})`,
        ...at(ruleIndex, rule),
      });
      return;
    }
    checkPatternCanMatch(item, side, ruleIndex, rule, source, at(ruleIndex, rule), add);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Can a MATCH pattern meet what the named step may have recorded?

/** The paths `prefix + s` for every `s` that `pattern` matches (fnmatch). `prefix` is literal. */
interface PathSet {
  readonly prefix: string;
  readonly pattern: string;
}

/** python `os.path.join(prefix, '')`: a non-empty prefix gets a trailing slash. */
const dirPrefix = (prefix: string | undefined): string => (prefix ? prefix.replace(/\/?$/, '/') : '');

/**
 * What an item's rules on one side let its link contain without failing: the paths of the rules that consume
 * before the first `DISALLOW *`. `undefined` when the side is not closed by `DISALLOW *` (anything may be there).
 * An over-approximation (a consumed path may still fail an earlier DISALLOW), which is what a "never" needs.
 */
function permittedPaths(item: Item, side: Side): PathSet[] | undefined {
  const out: PathSet[] = [];
  for (const rule of rulesOf(item, side)) {
    if (isDisallowAll(rule)) return out;
    if (rule.type === 'REQUIRE' || rule.type === 'DISALLOW') continue;
    out.push({ prefix: rule.type === 'MATCH' ? dirPrefix(rule.srcPrefix) : '', pattern: rule.pattern });
  }
  return undefined;
}

function checkPatternCanMatch(
  item: Item,
  side: Side,
  ruleIndex: number,
  rule: MatchRule,
  source: Item,
  at: Omit<LintFinding, 'code' | 'severity' | 'message' | 'risk' | 'fix'>,
  add: Add,
): void {
  const sourceSide: Side = rule.dstType === 'MATERIALS' ? 'materials' : 'products';
  const permitted = permittedPaths(source, sourceSide);
  if (permitted === undefined) return;
  const wanted: PathSet = { prefix: dirPrefix(rule.dstPrefix), pattern: rule.pattern };
  if (permitted.some((p) => mayIntersect(wanted, p))) return;
  const looked = `${wanted.prefix}${wanted.pattern}`;
  const allowed = permitted.map((p) => `${p.prefix}${p.pattern}`);
  add('PATTERN_NEVER_MATCHES', {
    message: `${ruleLabel(item, side, ruleIndex, rule)} looks for ${looked} among the ${sourceSide} of ${itemLabel(source)}, whose rules allow ${allowed.length === 0 ? 'no ' + sourceSide + ' at all' : `only ${allowed.join(', ')}`} (then DISALLOW *)`,
    risk: `the rule can never consume anything: ${itemLabel(source)} fails verification if its link records such a path, so the artifacts this rule was meant to tie to it fall through to the later rules${rulesOf(item, side).slice(ruleIndex + 1).some(isDisallowAll) ? ' and make the DISALLOW * fail every verification' : ' unchecked'}`,
    fix: `make the pattern name what ${itemLabel(source)} records (${allowed.join(', ') || 'nothing yet'}), or let that step ${sourceSide === 'products' ? 'produce' : 'consume'} it`,
    ...at,
  });
}

/**
 * Whether some path is in both sets. Exact, with the engine's fnmatch, when one side names a single path;
 * otherwise decided on a simplification in which a `[...]` set stands for any one character: that can only
 * say "maybe" more often than the truth, never "no" wrongly, so a reported "never" is certain.
 */
function mayIntersect(a: PathSet, b: PathSet): boolean {
  const literal = (s: PathSet) => !/[*?[]/.test(s.pattern);
  const contains = (set: PathSet, path: string) => path.startsWith(set.prefix) && matchGlob(set.pattern, path.slice(set.prefix.length));
  if (literal(a)) return contains(b, a.prefix + a.pattern);
  if (literal(b)) return contains(a, b.prefix + b.pattern);
  return globsIntersect(globTokens(a), globTokens(b));
}

const STAR = -1;
const ANY = -2;

/** Literal code points of the prefix, then the pattern as python's `fnmatch.translate` reads it (sets as ANY). */
function globTokens(set: PathSet): number[] {
  const out: number[] = Array.from(set.prefix, (c) => c.codePointAt(0)!);
  const p = Array.from(set.pattern);
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (c === '?') {
      out.push(ANY);
    } else if (c === '[') {
      // translate(): `[!` and a leading `]` belong to the set; without a closing `]` the `[` is literal.
      let j = i + 1;
      if (p[j] === '!') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j++;
      if (j >= p.length) out.push(0x5b);
      else {
        out.push(ANY);
        i = j;
      }
    } else {
      out.push(c.codePointAt(0)!);
    }
  }
  return out;
}

/** Emptiness of the intersection of two token languages: a search over pairs of positions. */
function globsIntersect(a: readonly number[], b: readonly number[]): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const k = i * width + j;
    if (!seen[k]) {
      seen[k] = 1;
      stack.push(k);
    }
  };
  while (stack.length > 0) {
    const k = stack.pop()!;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    // A star may match nothing.
    if (x === STAR) visit(i + 1, j);
    if (y === STAR) visit(i, j + 1);
    if (x === undefined || y === undefined) continue;
    // Both read one character.
    if (x === STAR && y !== STAR) visit(i, j + 1);
    else if (y === STAR && x !== STAR) visit(i + 1, j);
    else if (x !== STAR && y !== STAR && (x === ANY || y === ANY || x === y)) visit(i + 1, j + 1);
  }
  return false;
}
