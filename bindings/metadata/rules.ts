/**
 * Artifact rules: the grammar of in-toto 1.3.1 `in_toto/rulelib.py` `unpack_rule`, parsed once (when a layout
 * is read) into a discriminated union, so the verifier never looks at rule strings again.
 *
 *   MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>
 *   CREATE <pattern> | DELETE <pattern> | MODIFY <pattern> | ALLOW <pattern> | DISALLOW <pattern>
 *   REQUIRE <file>
 *
 * Keywords are case-insensitive; operands keep their case. A rule is a JSON array of strings (the layout stores
 * token lists, not rule strings), and the token count decides the form: 2 for the generic rules, 6, 8 or 10 for
 * MATCH, anything else is refused.
 */
import { InTotoError } from '../errors.js';

export type GenericRuleType = 'CREATE' | 'DELETE' | 'MODIFY' | 'ALLOW' | 'DISALLOW';

/** Which side of the named step's link a MATCH rule compares with. */
export type MatchDestination = 'MATERIALS' | 'PRODUCTS';

export interface MatchRule {
  readonly type: 'MATCH';
  readonly pattern: string;
  /** Literal path prefix of this item's artifacts (never globbed); absent when the rule has no source `IN`. */
  readonly srcPrefix?: string;
  readonly dstType: MatchDestination;
  /** Literal path prefix of the other step's artifacts; absent when the rule has no destination `IN`. */
  readonly dstPrefix?: string;
  /** Name of the step (or earlier inspection) whose link the rule matches against. */
  readonly step: string;
  /** The rule as written in the layout, for messages and for writing the layout back. */
  readonly tokens: readonly string[];
}

export interface GenericRule {
  readonly type: GenericRuleType;
  readonly pattern: string;
  readonly tokens: readonly string[];
}

/** REQUIRE takes a literal file name, not a pattern (rulelib.py: "a weird animal"). */
export interface RequireRule {
  readonly type: 'REQUIRE';
  readonly filename: string;
  readonly tokens: readonly string[];
}

export type ArtifactRule = MatchRule | GenericRule | RequireRule;

/** Where a rule sits, so that an error names it: the JSON field and the step or inspection that holds it. */
export interface RuleLocation {
  /** Dotted path of the rule, e.g. `steps[2].expected_products[0]`. */
  readonly field: string;
  /** Name of the step or inspection holding the rule. */
  readonly step?: string;
  /** Whether `step` names a step or an inspection (for the message). */
  readonly kind?: 'step' | 'inspection';
}

const GENERIC_KEYWORDS: ReadonlyMap<string, GenericRuleType | 'REQUIRE'> = new Map([
  ['create', 'CREATE'],
  ['delete', 'DELETE'],
  ['modify', 'MODIFY'],
  ['allow', 'ALLOW'],
  ['disallow', 'DISALLOW'],
  ['require', 'REQUIRE'],
]);

const MATCH_FORM =
  'MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>';

/**
 * Parses one rule from its token list. Refuses exactly what `unpack_rule` refuses: anything but a list of
 * strings, fewer than two tokens, an unknown keyword, a generic rule with other than two tokens, a MATCH rule
 * whose keywords are not at the positions of one of its four forms, and a MATCH destination other than
 * MATERIALS or PRODUCTS. Throws `InTotoError` (`FORMAT`) naming `location.field`.
 */
export function parseRule(tokens: unknown, location: RuleLocation): ArtifactRule {
  if (!Array.isArray(tokens)) {
    throw ruleError(location, undefined, 'must be a list of strings (the rule as tokens, e.g. ["CREATE", "foo"])');
  }
  tokens.forEach((token: unknown, i) => {
    if (typeof token !== 'string') {
      throw ruleError({ ...location, field: `${location.field}[${i}]` }, undefined, 'every token of a rule must be a string');
    }
  });
  const rule: readonly string[] = [...(tokens as string[])];
  // Python's `str.lower()` and JavaScript's `toLowerCase()` may differ outside ASCII, which cannot matter here:
  // the only non-ASCII character that lowercases to plain ASCII is the Kelvin sign ('k'), in no keyword.
  const lower = rule.map((token) => token.toLowerCase());

  const keyword = lower[0];
  const generic = keyword === undefined ? undefined : GENERIC_KEYWORDS.get(keyword);
  if (rule.length < 2 || (generic === undefined && keyword !== 'match')) {
    throw ruleError(
      location,
      rule,
      'a rule starts with MATCH, CREATE, DELETE, MODIFY, ALLOW, DISALLOW or REQUIRE, followed by a pattern',
    );
  }

  if (generic !== undefined) {
    if (rule.length !== 2) {
      throw ruleError(location, rule, `a ${generic} rule has exactly two tokens: ${generic} <${generic === 'REQUIRE' ? 'file' : 'pattern'}>`);
    }
    return generic === 'REQUIRE'
      ? { type: 'REQUIRE', filename: rule[1]!, tokens: rule }
      : { type: generic, pattern: rule[1]!, tokens: rule };
  }
  return parseMatch(rule, lower, location);
}

/** The four MATCH forms, told apart (as in rulelib.py) by the token count and the keyword positions. */
function parseMatch(rule: readonly string[], lower: readonly string[], location: RuleLocation): MatchRule {
  const at = (i: number, word: string) => lower[i] === word;
  let parts: { srcPrefix?: string; dst: number; dstPrefix?: string; step: string } | undefined;
  if (rule.length === 10 && at(2, 'in') && at(4, 'with') && at(6, 'in') && at(8, 'from')) {
    parts = { srcPrefix: rule[3]!, dst: 5, dstPrefix: rule[7]!, step: rule[9]! };
  } else if (rule.length === 8 && at(2, 'in') && at(4, 'with') && at(6, 'from')) {
    parts = { srcPrefix: rule[3]!, dst: 5, step: rule[7]! };
  } else if (rule.length === 8 && at(2, 'with') && at(4, 'in') && at(6, 'from')) {
    parts = { dst: 3, dstPrefix: rule[5]!, step: rule[7]! };
  } else if (rule.length === 6 && at(2, 'with') && at(4, 'from')) {
    parts = { dst: 3, step: rule[5]! };
  }
  if (parts === undefined) {
    throw ruleError(location, rule, `a MATCH rule reads ${MATCH_FORM}`);
  }
  const destination = lower[parts.dst];
  if (destination !== 'materials' && destination !== 'products') {
    throw ruleError(location, rule, `a MATCH rule compares WITH MATERIALS or WITH PRODUCTS (any case), not WITH ${rule[parts.dst]}`);
  }
  return {
    type: 'MATCH',
    pattern: rule[1]!,
    ...(parts.srcPrefix === undefined ? {} : { srcPrefix: parts.srcPrefix }),
    dstType: destination === 'materials' ? 'MATERIALS' : 'PRODUCTS',
    ...(parts.dstPrefix === undefined ? {} : { dstPrefix: parts.dstPrefix }),
    step: parts.step,
    tokens: rule,
  };
}

/**
 * The rule as a person would type it: its tokens as written, joined the way python's `shlex.join` does, so
 * `shlex.split` (which `Step.add_material_rule_from_string` uses) gives the tokens back.
 */
export function ruleToString(rule: ArtifactRule): string {
  return rule.tokens.map(shellQuote).join(' ');
}

/** python `shlex.quote`: safe tokens as they are, others in single quotes. */
function shellQuote(token: string): string {
  if (token === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(token)) return token;
  return `'${token.replaceAll("'", `'"'"'`)}'`;
}

function ruleError(location: RuleLocation, rule: readonly string[] | undefined, reason: string): InTotoError {
  const owner = location.step === undefined ? '' : ` (${location.kind ?? 'step'} '${location.step}')`;
  const shown = rule === undefined ? '' : ` \`${rule.map(shellQuote).join(' ')}\``;
  return new InTotoError('FORMAT', `${location.field}${owner}: invalid artifact rule${shown}: ${reason}`, {
    field: location.field,
    ...(location.step === undefined ? {} : { step: location.step }),
    ...(rule === undefined ? {} : { rule: rule.map(shellQuote).join(' ') }),
  });
}
