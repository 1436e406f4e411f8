/**
 * The picture of an attestation layout (ITE-10/11), drawn by graph.ts's renderer: each step a box with its
 * functionaries and, for each expected predicate, its type, threshold and CEL rules; MATCH rules as arrows; after
 * `in-toto-attestation-verify --json`, what failed in red with the reason.
 *
 *   renderChainSvg(attestationChainGraph(readAttestationLayout(doc), { verdict }))
 */
import type { AttestationLayout, AttestationVerdict } from '../verify/attestation-layout.js';
import { ruleToString, type ArtifactRule } from '../metadata/rules.js';
import type { ChainGraph, GraphEdge, GraphEdgeRule, GraphNode, GraphRule, NodeStatus } from './graph.js';

export interface AttestationGraphOptions {
  readonly verdict?: AttestationVerdict;
  /** Functionary id -> a name shown instead of the id. */
  readonly names?: ReadonlyMap<string, string>;
}

/** The short form of a predicate type: its last two path segments (`provenance/v1`). */
const shortType = (type: string) => type.split('/').filter(Boolean).slice(-2).join('/');

export function attestationChainGraph(layout: AttestationLayout, options: AttestationGraphOptions = {}): ChainGraph {
  const verdict = options.verdict;
  const nameOf = (id: string) => {
    const f = layout.functionaries.get(id);
    return options.names?.get(id) ?? (f?.kind === 'sigstore' ? f.says : id.slice(0, 8));
  };
  const order = new Map(layout.steps.map((s, i) => [s.name, i] as const));
  const failuresOf = new Map<string, AttestationVerdict['failures'][number][]>();
  const layoutProblems: string[] = [];
  let blocked = false;
  for (const f of verdict?.failures ?? []) {
    if (f.step !== undefined && order.has(f.step)) failuresOf.set(f.step, [...(failuresOf.get(f.step) ?? []), f]);
    else {
      layoutProblems.push(`[${f.code}] ${f.message}`);
      if (f.code === 'LAYOUT' || f.code === 'LIMIT') blocked = true;
    }
  }

  const edgeMap = new Map<string, { from: string; to: string; rules: GraphEdgeRule[]; invisible: boolean }>();
  const dangling: string[] = [];
  const failedRule = (step: string, rule: ArtifactRule) => (failuresOf.get(step) ?? []).some((f) => f.code === 'RULE' && f.rule === ruleToString(rule));
  for (const step of layout.steps) {
    for (const side of ['materials', 'products'] as const) {
      (side === 'materials' ? step.expectedMaterials : step.expectedProducts).forEach((rule, index) => {
        if (rule.type !== 'MATCH') return;
        if (!order.has(rule.step)) {
          dangling.push(`${step.name}: ${ruleToString(rule)}`);
          return;
        }
        const key = `${rule.step}\u0000${step.name}`;
        const edge = edgeMap.get(key) ?? { from: rule.step, to: step.name, rules: [], invisible: false };
        edge.rules.push({ side, index, pattern: rule.pattern, from: rule.dstType === 'MATERIALS' ? 'materials' : 'products', failed: failedRule(step.name, rule) });
        edgeMap.set(key, edge);
      });
    }
  }
  const edges: GraphEdge[] = [...edgeMap.values()].map((e, i) => ({ id: `edge-${i}`, ...e, failed: e.rules.some((r) => r.failed) }));
  const layer = new Map<string, number>();
  for (const step of layout.steps) {
    let l = 0;
    for (const edge of edges) if (edge.to === step.name && order.get(edge.from)! < order.get(step.name)!) l = Math.max(l, layer.get(edge.from)! + 1);
    layer.set(step.name, l);
  }

  const nodes: GraphNode[] = layout.steps.map((step, i) => {
    const failures = failuresOf.get(step.name) ?? [];
    const rules: GraphRule[] = (['materials', 'products'] as const).flatMap((side) =>
      (side === 'materials' ? step.expectedMaterials : step.expectedProducts).map((rule, index) => {
        const failed = failedRule(step.name, rule);
        return { side, index, text: ruleToString(rule), failed, ...(failed ? { note: 'RULE' } : {}) };
      }),
    );
    const notes = step.expectedPredicates.flatMap((p) => [
      `expects ${shortType(p.predicateType)} from ${p.threshold} of ${p.functionaries.map(nameOf).join(', ')}`,
      ...p.expectedAttributes.map((a) => `${a.warn ? 'warn' : 'rule'}${a.allowIfNoClaim ? ' (if claimed)' : ''}: ${a.rule}`),
    ]);
    let status: NodeStatus = 'unverified';
    if (verdict) status = failures.length > 0 ? 'failed' : blocked ? 'unchecked' : 'passed';
    return {
      id: `node-${i}`,
      name: step.name,
      kind: 'step',
      functionaries: [...new Set(step.expectedPredicates.flatMap((p) => p.functionaries))].map(nameOf),
      command: [],
      notes,
      rules,
      status,
      problems: failures.filter((f) => f.code !== 'RULE').map((f) => `[${f.code}] ${f.message}`),
      warnings: [],
      layer: layer.get(step.name)!,
    };
  });
  return {
    nodes,
    edges,
    dangling,
    readme: '',
    expires: layout.expires,
    ...(verdict ? { passed: verdict.passed } : {}),
    layoutProblems,
    failureCount: verdict?.failures.length ?? 0,
  };
}
