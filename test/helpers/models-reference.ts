/** Reading in-toto metadata with the reference's models (Debian's in-toto 1.3.1), for the model suites. */
import { runPython } from './reference.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Doc = { [key: string]: Json };
export type Verdict = 'accepts' | 'rewrites' | 'refuses';

/** JSON with sorted keys at every level: equal strings mean equal documents. */
export function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((key) => `${JSON.stringify(key)}:${stable(obj[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function python<T>(program: string, input: unknown): T {
  return JSON.parse(runPython(program, JSON.stringify(input)).toString('utf8')) as T;
}

/**
 * How the reference reads each document: `refuses` (an exception), `rewrites` (reads it, but what it would
 * write, and sign or check signatures over, differs from the input) or `accepts` (identical). `signed` means
 * Metablock.load's dispatch on `_type`.
 */
const REFERENCE_READ = `
import copy, json, sys, attr
from in_toto.models.layout import Layout
from in_toto.models.link import Link
out = []
for case in json.load(sys.stdin):
    doc = case["doc"]
    try:
        kind = case["kind"]
        if kind == "signed":
            kind = doc.get("_type")
            if kind not in ("layout", "link"):
                raise ValueError("Invalid Metadata format")
        model = (Layout if kind == "layout" else Link).read(copy.deepcopy(doc))
        written = attr.asdict(model)
        out.append({"verdict": "accepts" if written == doc else "rewrites", "written": written})
    except Exception as e:
        out.append({"verdict": "refuses", "error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;
export interface ReferenceRead {
  verdict: Verdict;
  written?: Doc;
  error?: string;
}
export const referenceRead = (cases: { kind: 'layout' | 'link' | 'signed'; doc: unknown }[]) => python<ReferenceRead[]>(REFERENCE_READ, cases);
