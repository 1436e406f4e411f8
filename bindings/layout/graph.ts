/**
 * A picture of a supply chain: steps and inspections as boxes (name, functionaries and threshold, command,
 * artifact rules), the artifact flow of MATCH rules as arrows (from the step whose link holds the artifacts
 * to the item whose rule compares them), and, after verification, what passed and what failed: failed
 * items and rules in red with the reason, warnings in amber, the verdict at the top.
 *
 * Pure TypeScript producing an SVG string: no DOM, no dependency, the same output in Node, Deno, browsers
 * and Workers. Everything taken from the layout (names, patterns, commands) is escaped, and characters XML
 * cannot hold are replaced, so any layout gives well-formed XML. Elements carry classes and data attributes
 * (`g.node[data-name][data-status]`, `g.edge[data-from][data-to][data-status]`) for tools and tests.
 *
 *   renderChainSvg(layout)                         // the layout alone
 *   renderChainSvg(layout, { verdict })            // after verify()
 *   verdictToSvg(layoutFileBytes, verdict)         // what `in-toto-verify --graph` writes; never throws
 */
import { readEnvelope, type Envelope } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import { parseLayout, type Inspection, type Layout, type LayoutJSON, type Step } from '../metadata/models.js';
import type { ArtifactRule } from '../metadata/rules.js';
import type { Failure, Verdict, VerdictWarning } from '../verify/verify.js';

export type NodeStatus = 'unverified' | 'passed' | 'failed' | 'unchecked' | 'skipped';

export interface GraphRule {
  readonly side: 'materials' | 'products';
  readonly index: number;
  /** As written: tokens joined by spaces. */
  readonly text: string;
  readonly failed: boolean;
  /** Why it failed (the verdict's message, shortened), when it did. */
  readonly note?: string;
}

export interface GraphNode {
  readonly id: string;
  readonly name: string;
  readonly kind: 'step' | 'inspection';
  /** Functionaries as shown: the key's name when known, else the first 8 hex digits of its id. */
  readonly functionaries: readonly string[];
  readonly threshold?: number;
  /** `expected_command` of a step, `run` of an inspection. */
  readonly command: readonly string[];
  /** Lines shown under the functionaries (an attestation layout's expected predicates). */
  readonly notes?: readonly string[];
  readonly rules: readonly GraphRule[];
  readonly status: NodeStatus;
  /** Failures of the item that are not about one rule (missing links, thresholds, signatures, ...). */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  /** Column, from left to right: artifacts flow rightwards. */
  readonly layer: number;
}

export interface GraphEdgeRule {
  readonly side: 'materials' | 'products';
  readonly index: number;
  readonly pattern: string;
  /** Which side of the source's link the rule compares with. */
  readonly from: 'materials' | 'products';
  readonly failed: boolean;
}

export interface GraphEdge {
  readonly id: string;
  /** Name of the step or inspection whose link holds the artifacts. */
  readonly from: string;
  /** Name of the item whose MATCH rules compare them. */
  readonly to: string;
  readonly rules: readonly GraphEdgeRule[];
  readonly failed: boolean;
  /** A step rule naming an inspection: drawn, but it never matches (step rules run before inspections). */
  readonly invisible: boolean;
}

export interface ChainGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** MATCH rules naming nothing in the layout: `item: rule`. */
  readonly dangling: readonly string[];
  readonly readme: string;
  readonly expires: string;
  /** `undefined` without a verdict. */
  readonly passed?: boolean;
  /** Failures about the layout as a whole (signatures, expiry, keys), as messages. */
  readonly layoutProblems: readonly string[];
  readonly failureCount: number;
}

export interface GraphOptions {
  /** A verification verdict to paint onto the graph. */
  verdict?: Verdict;
  /** Key id -> a person's name, shown instead of the id. */
  keyNames?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** A heading above the chain (default: "in-toto supply chain"). */
  title?: string;
}

type Item = Step | Inspection;

/** Failures that stop verification before any step is looked at (the layout could not be trusted). */
const BLOCKING = new Set(['SIGNATURE', 'FORMAT', 'JSON', 'LIMIT', 'ENGINE', 'IO', 'UNSUPPORTED']);

/** The graph's data, from which `renderChainSvg` draws. */
export function chainGraph(layout: Layout | LayoutJSON, options: GraphOptions = {}): ChainGraph {
  const model: Layout = 'type' in layout ? layout : parseLayout(layout);
  const verdict = options.verdict;
  const names = toNameMap(options.keyNames);
  const items: Item[] = [...model.steps, ...model.inspect];
  const byName = new Map(items.map((item) => [item.name, item] as const));
  const order = new Map(items.map((item, i) => [item.name, i] as const));

  // Which failures concern which item: root-layout failures by step name; a sublayout's failures count
  // against the step of the root layout that holds it.
  const failuresOf = new Map<string, Failure[]>();
  const layoutProblems: string[] = [];
  let blocked = false;
  let inspectionsBlocked = false;
  for (const failure of verdict?.failures ?? []) {
    const owner = failure.layout.length > 0 ? failure.layout[0] : failure.step;
    if (owner !== undefined && byName.has(owner)) {
      const list = failuresOf.get(owner) ?? [];
      list.push(failure);
      failuresOf.set(owner, list);
      continue;
    }
    layoutProblems.push(`[${failure.code}] ${failure.message}`);
    if (BLOCKING.has(failure.code)) blocked = true;
    if (failure.code === 'INSPECTION') inspectionsBlocked = true;
  }
  const warningsOf = new Map<string, VerdictWarning[]>();
  let inspectionsSkipped = false;
  for (const warning of verdict?.warnings ?? []) {
    if (warning.code === 'INSPECTIONS_SKIPPED') inspectionsSkipped = true;
    const owner = warning.layout.length > 0 ? warning.layout[0] : warning.step;
    if (owner !== undefined && byName.has(owner)) {
      const list = warningsOf.get(owner) ?? [];
      list.push(warning);
      warningsOf.set(owner, list);
    }
  }

  // Edges: one per (source, target) pair, holding every MATCH rule between them.
  const edgeMap = new Map<string, { from: string; to: string; rules: GraphEdgeRule[]; invisible: boolean }>();
  const dangling: string[] = [];
  const failedEdgeRules = new Set<string>();
  for (const item of items) {
    for (const failure of failuresOf.get(item.name) ?? []) {
      if (failure.layout.length > 0) continue;
      // The verifier explains a caught artifact by the MATCH rule whose digests differ: mark that flow.
      for (const mismatch of failure.digests ?? []) {
        const m = /^(materials|products) of '(.*)'(?: \(not recorded there as .*\))?$/s.exec(mismatch.source);
        if (m) failedEdgeRules.add(`${m[2]}\u0000${item.name}\u0000${failure.side}\u0000${m[1]}`);
      }
    }
  }
  for (const item of items) {
    for (const side of ['materials', 'products'] as const) {
      rulesOf(item, side).forEach((rule, index) => {
        if (rule.type !== 'MATCH') return;
        if (!byName.has(rule.step)) {
          dangling.push(`${item.name}: ${ruleText(rule)}`);
          return;
        }
        const key = `${rule.step}\u0000${item.name}`;
        const edge = edgeMap.get(key) ?? { from: rule.step, to: item.name, rules: [], invisible: false };
        const fromSide = rule.dstType === 'MATERIALS' ? 'materials' : 'products';
        const failed =
          failedEdgeRules.has(`${rule.step}\u0000${item.name}\u0000${side}\u0000${fromSide}`) ||
          (failuresOf.get(item.name) ?? []).some((f) => f.layout.length === 0 && f.side === side && f.ruleIndex === index);
        edge.rules.push({ side, index, pattern: rule.pattern, from: fromSide, failed });
        if (item.type === 'step' && byName.get(rule.step)!.type === 'inspection') edge.invisible = true;
        edgeMap.set(key, edge);
      });
    }
  }
  const edges: GraphEdge[] = [...edgeMap.values()].map((e, i) => ({ id: `edge-${i}`, ...e, failed: e.rules.some((r) => r.failed) }));

  // Columns: a node sits right of every earlier node it takes artifacts from; inspections (run after all
  // steps) right of every step.
  const layer = new Map<string, number>();
  let maxStepLayer = -1;
  for (const item of items) {
    let l = item.type === 'inspection' ? maxStepLayer + 1 : 0;
    for (const edge of edges) {
      if (edge.to !== item.name || edge.from === item.name) continue;
      if (order.get(edge.from)! < order.get(item.name)!) l = Math.max(l, layer.get(edge.from)! + 1);
    }
    layer.set(item.name, l);
    if (item.type === 'step') maxStepLayer = Math.max(maxStepLayer, l);
  }

  const nodes: GraphNode[] = items.map((item, i) => {
    const failures = failuresOf.get(item.name) ?? [];
    const ruleFailures = new Map<string, Failure>();
    const problems: string[] = [];
    for (const f of failures) {
      if (f.layout.length === 0 && f.side !== undefined && f.ruleIndex !== undefined) ruleFailures.set(`${f.side}:${f.ruleIndex}`, f);
      else problems.push(`[${f.code}] ${stripWhere(f.message)}`);
    }
    const rules: GraphRule[] = (['materials', 'products'] as const).flatMap((side) =>
      rulesOf(item, side).map((rule, index) => {
        const f = ruleFailures.get(`${side}:${index}`);
        return {
          side,
          index,
          text: ruleText(rule),
          failed: f !== undefined,
          ...(f !== undefined ? { note: `${f.code}${f.artifacts && f.artifacts.length > 0 ? `: ${f.artifacts.join(', ')}` : ''}` } : {}),
        };
      }),
    );
    let status: NodeStatus = 'unverified';
    if (verdict) {
      if (failures.length > 0) status = 'failed';
      else if (blocked || (item.type === 'inspection' && inspectionsBlocked)) status = 'unchecked';
      else if (item.type === 'inspection' && inspectionsSkipped) status = 'skipped';
      else status = 'passed';
    }
    return {
      id: `node-${i}`,
      name: item.name,
      kind: item.type,
      functionaries: item.type === 'step' ? [...new Set(item.pubkeys)].map((id) => names.get(id) ?? id.slice(0, 8)) : [],
      ...(item.type === 'step' ? { threshold: item.threshold } : {}),
      command: item.type === 'step' ? item.expectedCommand : item.run,
      rules,
      status,
      problems,
      warnings: (warningsOf.get(item.name) ?? []).map((w) => `[${w.code}] ${stripWhere(w.message)}`),
      layer: layer.get(item.name)!,
    };
  });

  return {
    nodes,
    edges,
    dangling,
    readme: model.readme,
    expires: model.expires,
    ...(verdict ? { passed: verdict.passed } : {}),
    layoutProblems,
    failureCount: verdict?.failures.length ?? 0,
  };
}

function toNameMap(names: GraphOptions['keyNames']): Map<string, string> {
  if (names === undefined) return new Map();
  if (names instanceof Map) return new Map(names);
  return new Map(Object.entries(names as Record<string, string>));
}

const rulesOf = (item: Item, side: 'materials' | 'products'): readonly ArtifactRule[] =>
  side === 'materials' ? item.expectedMaterials : item.expectedProducts;
const ruleText = (rule: ArtifactRule): string => rule.tokens.join(' ');
/** The verdict's messages start with "step 'x': " or "inspection 'x', ": the box already says which. */
const stripWhere = (message: string): string => message.replace(/^(step|inspection) '[^']*'(: |, | )/, '');

// ---------------------------------------------------------------------------------------------------------
// Drawing

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";
const MONO = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/** Widths per character, generous (DejaVu is wide), so that text stays inside its box in common fonts. */
const CHAR = { title: 9.6, text: 7.3, small: 6.6, mono: 6.8 } as const;
const LINE = { title: 22, text: 17, small: 15, mono: 16 } as const;
const PAD = 12;
const MIN_BOX = 210;
const MAX_BOX = 460;
const ROW_GAP = 36;
const MARGIN = 24;

interface Line {
  readonly text: string;
  readonly style: keyof typeof CHAR;
  readonly cls: string;
  /** Characters of indentation (SVG collapses leading spaces). */
  readonly indent?: number;
}

interface Box {
  readonly node: GraphNode;
  readonly lines: Line[];
  readonly width: number;
  readonly height: number;
  x: number;
  y: number;
}

/** Shortens to `max` characters with an ellipsis. */
function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** Wraps at spaces (breaking words longer than a line), at most `maxLines` lines. */
function wrap(text: string, max: number, maxLines: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (Array.from(w).length > max) {
      if (line) {
        out.push(line);
        line = '';
      }
      out.push(Array.from(w).slice(0, max).join(''));
      w = Array.from(w).slice(max).join('');
    }
    if (!line) line = w;
    else if (Array.from(line).length + 1 + Array.from(w).length <= max) line += ` ${w}`;
    else {
      out.push(line);
      line = w;
    }
  }
  if (line) out.push(line);
  if (out.length > maxLines) {
    const kept = out.slice(0, maxLines);
    kept[maxLines - 1] = clip(`${kept[maxLines - 1]} …`, max);
    return kept;
  }
  return out;
}

const width = (line: Line) => (Array.from(line.text).length + (line.indent ?? 0)) * CHAR[line.style];
const STATUS_MARK: Record<NodeStatus, string> = { unverified: '', passed: '✓ ', failed: '✗ ', unchecked: '? ', skipped: '– ' };

function layoutBox(node: GraphNode): Box {
  const maxChars = (style: keyof typeof CHAR) => Math.floor((MAX_BOX - 2 * PAD) / CHAR[style]);
  const lines: Line[] = [];
  lines.push({ text: clip(`${STATUS_MARK[node.status]}${node.name}`, maxChars('title')), style: 'title', cls: 'name' });
  if (node.kind === 'step') {
    const who = node.functionaries.length === 0 ? 'no functionaries' : `by ${node.functionaries.join(', ')}`;
    const threshold = node.threshold !== undefined && (node.threshold > 1 || node.functionaries.length > 1)
      ? ` · threshold ${node.threshold} of ${node.functionaries.length}`
      : '';
    lines.push({ text: clip(`step ${who}${threshold}`, maxChars('text')), style: 'text', cls: 'who' });
  } else {
    lines.push({ text: 'inspection, run by the verifier', style: 'text', cls: 'who' });
  }
  if (node.command.length > 0) lines.push({ text: clip(`$ ${node.command.join(' ')}`, maxChars('mono')), style: 'mono', cls: 'command' });
  for (const note of node.notes ?? []) for (const l of wrap(note, maxChars('small'), 3)) lines.push({ text: l, style: 'small', cls: 'expects' });
  for (const side of ['materials', 'products'] as const) {
    const rules = node.rules.filter((r) => r.side === side);
    if (rules.length === 0) continue;
    lines.push({ text: side, style: 'small', cls: 'side' });
    for (const r of rules) {
      lines.push({ text: clip(`${r.failed ? '✗ ' : ''}${r.index + 1} ${r.text}`, maxChars('mono')), style: 'mono', cls: r.failed ? 'rule failed' : 'rule' });
      if (r.note) for (const l of wrap(r.note, maxChars('small') - 4, 2)) lines.push({ text: l, style: 'small', cls: 'note failed', indent: 3 });
    }
  }
  for (const p of node.problems) for (const l of wrap(p, maxChars('small'), 3)) lines.push({ text: l, style: 'small', cls: 'problem failed' });
  for (const w of node.warnings) for (const l of wrap(w, maxChars('small'), 2)) lines.push({ text: l, style: 'small', cls: 'problem warning' });
  const w = Math.min(MAX_BOX, Math.max(MIN_BOX, Math.ceil(largest(lines.map(width)) + 2 * PAD)));
  const h = PAD * 2 + lines.reduce((sum, l) => sum + LINE[l.style], 0) + 4;
  return { node, lines, width: w, height: h, x: 0, y: 0 };
}

const edgeLabel = (r: GraphEdgeRule) => `${r.failed ? '✗ ' : ''}${r.pattern}  (${r.from} → ${r.side})`;

/** The largest of `values` (-Infinity for none), without spreading them into arguments: a list can be long. */
function largest(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** XML 1.0 text: escapes markup, replaces characters XML cannot hold (controls, lone surrogates, U+FFFE/F). */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  text { font-family: ${FONT}; font-size: 12px; fill: #1f2937; }
  .mono, .command, .rule { font-family: ${MONO}; font-size: 11px; }
  .heading { font-size: 18px; font-weight: 700; }
  .subtle { fill: #6b7280; }
  .banner.passed { fill: #15803d; font-weight: 700; }
  .banner.failed { fill: #b91c1c; font-weight: 700; }
  .node rect.box { fill: #ffffff; stroke: #475569; stroke-width: 1.5; }
  .node.inspection rect.box { fill: #f8fafc; stroke-dasharray: 6 3; }
  .node.passed rect.box { stroke: #16a34a; stroke-width: 2.5; }
  .node.failed rect.box { stroke: #dc2626; stroke-width: 3; fill: #fef2f2; }
  .node.unchecked rect.box, .node.skipped rect.box { stroke: #9ca3af; }
  .node .name { font-size: 16px; font-weight: 700; }
  .node.failed .name, text.failed { fill: #b91c1c; }
  text.warning { fill: #b45309; }
  .node .who { fill: #374151; }
  .node .side { fill: #6b7280; font-size: 11px; font-variant: small-caps; letter-spacing: 0.5px; }
  .node .command { fill: #1e3a8a; }
  .edge path { fill: none; stroke: #64748b; stroke-width: 1.6; }
  .edge.failed path { stroke: #dc2626; stroke-width: 2.5; }
  .edge.invisible path { stroke-dasharray: 3 4; }
  .edge rect.label { fill: #ffffff; fill-opacity: 0.92; stroke: none; }
  .edge text { font-family: ${MONO}; font-size: 11px; fill: #334155; }
  .edge text.failed { fill: #b91c1c; font-weight: 700; }
`;

/** Draws the chain as a standalone SVG document (UTF-8 text). */
export function renderChainSvg(layout: Layout | LayoutJSON | ChainGraph, options: GraphOptions = {}): string {
  const graph = 'nodes' in layout ? layout : chainGraph(layout, options);
  const boxes = graph.nodes.map(layoutBox);
  const boxOf = new Map(boxes.map((b) => [b.node.name, b] as const));
  const layers = Math.max(0, ...graph.nodes.map((n) => n.layer + 1));

  // Header lines.
  const header: { text: string; cls: string; h: number }[] = [];
  header.push({ text: options.title ?? 'in-toto supply chain', cls: 'heading', h: 26 });
  if (graph.readme) for (const l of wrap(graph.readme, 110, 2)) header.push({ text: l, cls: 'subtle', h: 17 });
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  header.push({
    text: `layout expires ${graph.expires} · ${count(graph.nodes.filter((n) => n.kind === 'step').length, 'step')}, ${count(graph.nodes.filter((n) => n.kind === 'inspection').length, 'inspection')}`,
    cls: 'subtle',
    h: 17,
  });
  if (graph.passed !== undefined) {
    header.push({
      text: graph.passed ? 'verification PASSED' : `verification FAILED (${graph.failureCount} problem${graph.failureCount === 1 ? '' : 's'})`,
      cls: `banner ${graph.passed ? 'passed' : 'failed'}`,
      h: 20,
    });
  }
  for (const p of graph.layoutProblems) for (const l of wrap(p, 130, 3)) header.push({ text: l, cls: 'failed', h: 16 });
  for (const d of graph.dangling) header.push({ text: clip(`MATCH naming no step or inspection: ${d}`, 130), cls: 'warning', h: 16 });
  const headerHeight = header.reduce((s, l) => s + l.h, 0) + 16;

  // Edge kinds: between neighbouring columns drawn directly; others routed in lanes under the boxes.
  const direct = graph.edges.filter((e) => boxOf.get(e.to)!.node.layer === boxOf.get(e.from)!.node.layer + 1);
  const routed = graph.edges.filter((e) => !direct.includes(e));
  const labelWidth = (e: GraphEdge) => largest(e.rules.map((r) => Array.from(edgeLabel(r)).length * CHAR.mono));

  // Column widths and the gaps after them (wide enough for the labels of the direct edges crossing them).
  const colWidth = Array.from({ length: layers }, (_, l) => Math.max(0, ...boxes.filter((b) => b.node.layer === l).map((b) => b.width)));
  const gap = Array.from({ length: layers }, (_, l) =>
    Math.max(90, ...direct.filter((e) => boxOf.get(e.from)!.node.layer === l).map((e) => Math.min(labelWidth(e), 360) + 40)),
  );
  const colX: number[] = [];
  let x = MARGIN;
  for (let l = 0; l < layers; l++) {
    colX.push(x);
    x += colWidth[l]! + gap[l]!;
  }
  let bodyBottom = headerHeight;
  for (let l = 0; l < layers; l++) {
    let y = headerHeight + MARGIN;
    for (const b of boxes.filter((bb) => bb.node.layer === l)) {
      b.x = colX[l]! + (colWidth[l]! - b.width) / 2;
      b.y = y;
      y += b.height + ROW_GAP;
      bodyBottom = Math.max(bodyBottom, b.y + b.height);
    }
  }
  // Vertically centre each column against the tallest.
  const bodyTop = headerHeight + MARGIN;
  for (let l = 0; l < layers; l++) {
    const column = boxes.filter((b) => b.node.layer === l);
    if (column.length === 0) continue;
    const bottom = largest(column.map((b) => b.y + b.height));
    const shift = (bodyBottom - bottom) / 2;
    for (const b of column) b.y += shift;
  }

  const parts: string[] = [];
  // Ports: edges leaving (right side) and entering (left side) a box are spread over its side.
  const outgoing = new Map<string, GraphEdge[]>();
  const incoming = new Map<string, GraphEdge[]>();
  for (const e of direct) {
    outgoing.set(e.from, [...(outgoing.get(e.from) ?? []), e]);
    incoming.set(e.to, [...(incoming.get(e.to) ?? []), e]);
  }
  const portY = (box: Box, list: GraphEdge[], e: GraphEdge) => box.y + (box.height * (list.indexOf(e) + 1)) / (list.length + 1);

  const edgeParts: string[] = [];
  const labelParts: string[] = [];
  const edgeOpen = (e: GraphEdge) =>
    `<g class="edge${e.failed ? ' failed' : ''}${e.invisible ? ' invisible' : ''}" id="${e.id}" data-from="${xmlEscape(e.from)}" data-to="${xmlEscape(e.to)}" data-status="${e.failed ? 'failed' : 'ok'}" data-rules="${e.rules.length}">`;
  const label = (e: GraphEdge, cx: number, top: number) => {
    const lines = e.rules.map((r) => ({ text: clip(edgeLabel(r), 52), failed: r.failed }));
    if (e.invisible) lines.push({ text: 'never matches: step rules cannot see inspections', failed: true });
    const w = largest(lines.map((l) => Array.from(l.text).length * CHAR.mono)) + 8;
    const h = lines.length * 14 + 6;
    let out = `<rect class="label" x="${r1(cx - w / 2)}" y="${r1(top)}" width="${r1(w)}" height="${h}" rx="3"/>`;
    lines.forEach((l, i) => {
      out += `<text x="${r1(cx)}" y="${r1(top + 14 + i * 14)}" text-anchor="middle"${l.failed ? ' class="failed"' : ''}>${xmlEscape(l.text)}</text>`;
    });
    return { svg: out, h };
  };

  for (const e of direct) {
    const a = boxOf.get(e.from)!;
    const b = boxOf.get(e.to)!;
    const x1 = a.x + a.width;
    const y1 = portY(a, outgoing.get(e.from)!, e);
    const x2 = b.x - 2;
    const y2 = portY(b, incoming.get(e.to)!, e);
    const mx = (x1 + x2) / 2;
    const marker = e.failed ? 'arrow-failed' : 'arrow';
    const lab = label(e, mx, (y1 + y2) / 2 - (e.rules.length * 14 + 6) / 2);
    edgeParts.push(`${edgeOpen(e)}<path d="M${r1(x1)},${r1(y1)} C${r1(mx)},${r1(y1)} ${r1(mx)},${r1(y2)} ${r1(x2)},${r1(y2)}" marker-end="url(#${marker})"/>`);
    labelParts.push(`${lab.svg}</g>`);
  }
  // Lanes under the boxes for edges that skip columns, go backwards or stay in a column.
  let laneY = bodyBottom + 30;
  routed.forEach((e, k) => {
    const a = boxOf.get(e.from)!;
    const b = boxOf.get(e.to)!;
    const spread = (k % 5) * 10 - 20;
    const x1 = a.x + a.width / 2 + spread;
    const x2 = b.x + b.width / 2 - spread;
    const y1 = a.y + a.height;
    const y2 = b.y + b.height + 2;
    const marker = e.failed ? 'arrow-failed' : 'arrow';
    const lab = label(e, (x1 + x2) / 2, laneY + 6);
    edgeParts.push(
      `${edgeOpen(e)}<path d="M${r1(x1)},${r1(y1)} L${r1(x1)},${r1(laneY - 8)} Q${r1(x1)},${r1(laneY)} ${r1(x1 + Math.sign(x2 - x1 || 1) * 8)},${r1(laneY)} L${r1(x2 - Math.sign(x2 - x1 || 1) * 8)},${r1(laneY)} Q${r1(x2)},${r1(laneY)} ${r1(x2)},${r1(laneY - 8)} L${r1(x2)},${r1(y2)}" marker-end="url(#${marker})"/>`,
    );
    labelParts.push(`${lab.svg}</g>`);
    laneY += lab.h + 24;
  });
  const contentBottom = routed.length > 0 ? laneY : bodyBottom + 20;

  for (const b of boxes) {
    const n = b.node;
    let y = b.y + PAD;
    let inner = `<rect class="box" x="${r1(b.x)}" y="${r1(b.y)}" width="${b.width}" height="${b.height}" rx="8"/>`;
    for (const line of b.lines) {
      y += LINE[line.style];
      inner += `<text class="${line.cls}" x="${r1(b.x + PAD + (line.indent ?? 0) * CHAR[line.style])}" y="${r1(y - 4)}"${line.style === 'small' && !line.cls.includes('side') ? ' font-size="11"' : ''}>${xmlEscape(line.text)}</text>`;
    }
    parts.push(
      `<g class="node ${n.kind} ${n.status}" id="${n.id}" data-name="${xmlEscape(n.name)}" data-kind="${n.kind}" data-status="${n.status}"><title>${xmlEscape(`${n.kind} ${n.name}`)}</title>${inner}</g>`,
    );
  }

  // Legend.
  const legendY = contentBottom + 10;
  const legend = `<g class="legend"><path d="M${MARGIN},${legendY} L${MARGIN + 40},${legendY}" stroke="#64748b" stroke-width="1.6" marker-end="url(#arrow)"/><text class="subtle" x="${MARGIN + 50}" y="${legendY + 4}">artifacts compared by MATCH rules: from the link that recorded them to the rule that checks them (pattern, link side → rule side)</text></g>`;

  const width = Math.ceil(largest([x - (gap[layers - 1] ?? 0) + MARGIN, 760, ...header.map((l) => Array.from(l.text).length * 7.4 + 2 * MARGIN)].concat(routed.map((e) => labelWidth(e) + 2 * MARGIN))));
  const height = Math.ceil(legendY + 24);
  let hy = MARGIN - 4;
  const headerSvg = header
    .map((l) => {
      hy += l.h;
      return `<text class="${l.cls}" x="${MARGIN}" y="${hy}">${xmlEscape(l.text)}</text>`;
    })
    .join('');

  const title = options.title ?? 'in-toto supply chain';
  const summary = `${graph.nodes.length} items: ${graph.nodes.map((n) => `${n.kind} ${n.name}`).join(', ')}${graph.passed === undefined ? '' : graph.passed ? '; verification passed' : '; verification failed'}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chain-title chain-desc">`,
    `<title id="chain-title">${xmlEscape(title)}</title>`,
    `<desc id="chain-desc">${xmlEscape(summary)}</desc>`,
    `<defs><style>${STYLE}</style>`,
    `<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>`,
    `<marker id="arrow-failed" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#dc2626"/></marker>`,
    `</defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g class="header">${headerSvg}</g>`,
    `<g class="edges">${edgeParts.map((p, i) => p + labelParts[i]).join('')}</g>`,
    `<g class="nodes">${parts.join('')}</g>`,
    legend,
    `</svg>`,
    '',
  ].join('\n');
}

const r1 = (n: number) => String(Math.round(n * 10) / 10);

/**
 * The picture `in-toto-verify --graph` writes: the layout as verified, with the verdict painted on. Takes the
 * layout file's bytes (Metablock or DSSE) or a parsed layout. Never throws for a bad layout: when it cannot
 * be read, the SVG says so and lists the verdict's failures.
 */
export function verdictToSvg(layout: Uint8Array | string | Envelope | Layout | LayoutJSON, verdict: Verdict, options: Omit<GraphOptions, 'verdict'> = {}): string {
  let model: Layout;
  try {
    if (typeof layout === 'string' || layout instanceof Uint8Array) model = parseLayout(readEnvelope(layout).signed);
    else if ('kind' in layout) model = parseLayout(layout.signed);
    else model = 'type' in layout ? layout : parseLayout(layout);
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    const empty: ChainGraph = {
      nodes: [],
      edges: [],
      dangling: [],
      readme: `the layout cannot be drawn: ${error.message}`,
      expires: 'unknown',
      passed: verdict.passed,
      layoutProblems: verdict.failures.map((f) => `[${f.code}] ${f.message}`),
      failureCount: verdict.failures.length,
    };
    return renderChainSvg(empty, options);
  }
  return renderChainSvg(model, { ...options, verdict });
}
