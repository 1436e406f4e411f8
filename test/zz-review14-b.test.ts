import { beforeAll, describe, it } from 'vitest';
import { SLSA_PROVENANCE_V1 } from '../bindings/attestation/predicates.js';
import { createStatement } from '../bindings/attestation/statement.js';
import { initEngine } from '../bindings/engine.js';
import { generateKeyPair } from '../bindings/keys/crypto/index.js';
import { keyToDict, type PrivateKey, type PublicKey } from '../bindings/keys/keys.js';
import { createDsse, createMetablock, serializeEnvelope, signEnvelope } from '../bindings/metadata/envelope.js';
import { verifyAttestationLayout, type AttestationVerdict } from '../bindings/verify/attestation-layout.js';

const SHA = (c: string) => ({ sha256: c.repeat(64) });
let owner: PrivateKey, alice: PrivateKey;
const functionary = (k: PublicKey) => { const d = keyToDict(k); return { keyType: d.keytype, scheme: d.scheme, keyVal: { public: d.keyval.public } }; };
const envelope = async (s: Record<string, unknown>, key: PrivateKey) => serializeEnvelope(await signEnvelope(createDsse(s), key));
const signedLayout = async (doc: Record<string, unknown>) => serializeEnvelope(await signEnvelope(createMetablock(doc), owner));
const run = async (layout: Uint8Array, att: Map<string, Uint8Array>, parameters?: Record<string, string>) => verifyAttestationLayout({ layout, layoutKeys: [owner.publicKey], attestations: att, ...(parameters ? { parameters } : {}) });
const show = (name: string, v: AttestationVerdict) => console.log(`=== ${name}: passed=${v.passed}\n  failures=${JSON.stringify(v.failures.map((f) => f.code + ': ' + f.message)).slice(0, 600)}\n  warnings=${JSON.stringify(v.warnings).slice(0, 600)}`);
const oneStep = (attrs: unknown[], extra: Record<string, unknown> = {}) => ({ expires: '2100-01-01T00:00:00Z', functionaries: { [alice.keyid]: functionary(alice.publicKey) }, steps: [{ name: 'build', ...extra, expectedPredicates: [{ predicateType: SLSA_PROVENANCE_V1, functionaries: [alice.keyid], expectedAttributes: attrs }] }] });
const prov = (predicate: Record<string, unknown>, subject: unknown[] = [{ name: 'app', digest: SHA('a') }]) => ({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType: SLSA_PROVENANCE_V1, predicate });

beforeAll(async () => { await initEngine(); [owner, alice] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519')]); });

describe('review14 b', () => {
  it('F5b allowlist map lookup: present-but-wrong value excused as "no such key"', async () => {
    const rule = "{'https://builder.example/trusted': true}[predicate.runDetails.builder.id]";
    const v = await run(await signedLayout(oneStep([{ rule, allowIfNoClaim: true }])), new Map([['build.x.json', await envelope(prov({ runDetails: { builder: { id: 'https://evil' } } }), alice)]]));
    show('F5b map-lookup allowlist with allowIfNoClaim, builder.id=evil', v);
    const v2 = await run(await signedLayout(oneStep([{ rule: "predicate.runDetails.builder.id in {'https://builder.example/trusted': true}", allowIfNoClaim: true }])), new Map([['build.x.json', await envelope(prov({ runDetails: { builder: { id: 'https://evil' } } }), alice)]]));
    show('F5b control (in map)', v2);
  });
  it('F4b parameter CEL injection', async () => {
    const v = await run(await signedLayout(oneStep([{ rule: "predicate.runDetails.builder.id == 'https://builder.example/{builder}'" }])), new Map([['build.x.json', await envelope(prov({ runDetails: { builder: { id: 'https://evil' } } }), alice)]]), { builder: "v1' || true || '" });
    show("F4b builder=v1' || true || '", v);
    const v2 = await run(await signedLayout(oneStep([], { expectedMaterials: ['ALLOW git+https://github.com/{repo}@*', 'DISALLOW *'] })), new Map([['build.x.json', await envelope(prov({ buildDefinition: { resolvedDependencies: [{ uri: 'git+https://github.com/evil/x@1', digest: SHA('c') }] } }), alice)]]), { repo: '*' });
    show('F4c repo=* glob in rule', v2);
  });
  it('F9 substitution blow-up cost', async () => {
    const t = Date.now();
    const v = await run(await signedLayout(oneStep([{ rule: "predicate.x == '{a}'" }])), new Map(), { a: '{b}'.repeat(50), b: '{c}'.repeat(50), c: '{d}'.repeat(50), d: '{e}'.repeat(50), e: 'x'.repeat(50) });
    show(`F9 nested params (${Date.now() - t} ms)`, v);
    const t2 = Date.now();
    const v2 = await run(await signedLayout(oneStep([{ rule: "predicate.x == '{a}'" }])), new Map(), { a: '{a}'.repeat(200) });
    show(`F9b self-referential a={a}x200 (${Date.now() - t2} ms)`, v2);
  });
  it('F10 hostile artifacts: lone surrogate, __proto__, NUL, names', async () => {
    for (const [label, subject] of [
      ['lone surrogate', [{ name: 'app\ud800', digest: SHA('a') }]],
      ['__proto__', [{ name: '__proto__', digest: SHA('a') }]],
      ['NUL', [{ name: 'a\u0000b', digest: SHA('a') }]],
      ['digest __proto__ alg', [{ name: 'app', digest: { __proto__x: 'x', sha256: 'a'.repeat(64) } }]],
      ['only sha1', [{ name: 'app', digest: { sha1: 'a'.repeat(40) } }]],
    ] as const) {
      try {
        const v = await run(await signedLayout(oneStep([], { expectedProducts: ['CREATE app', 'DISALLOW *'] })), new Map([['build.x.json', await envelope(prov({}, subject as unknown[]), alice)]]));
        show(`F10 ${label}`, v);
      } catch (e) { console.log(`F10 ${label} THREW`, e); }
    }
  });
  it('F11 hostile payloads: deep nesting, 1e400, invalid utf8', async () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const payloads: [string, string][] = [
      ['deep', `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${'a'.repeat(64)}"}}],"predicateType":"${SLSA_PROVENANCE_V1}","predicate":{"x":${deep}}}`],
      ['1e400', `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${'a'.repeat(64)}"}}],"predicateType":"${SLSA_PROVENANCE_V1}","predicate":{"x":1e400}}`],
    ];
    for (const [label, p] of payloads) {
      const bytes = new TextEncoder().encode(p);
      const d = createDsse({});
      const te = new TextEncoder(); const t = d.payloadType; const head = te.encode(`DSSEv1 ${te.encode(t).length} ${t} ${bytes.length} `); const sb = new Uint8Array(head.length + bytes.length); sb.set(head); sb.set(bytes, head.length);
      const env = await signEnvelope({ ...d, payload: bytes, signedBytes: sb } as any, alice);
      try {
        const v = await run(await signedLayout(oneStep([{ rule: 'predicate.x != 5' }])), new Map([['build.x.json', serializeEnvelope(env)]]));
        show(`F11 ${label}`, v);
      } catch (e) { console.log(`F11 ${label} THREW`, String(e).slice(0, 300)); }
    }
  });
  it('F12 weird step names', async () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const doc = { expires: '2100-01-01T00:00:00Z', functionaries: { [alice.keyid]: functionary(alice.publicKey) }, steps: [
        { name, expectedProducts: ['CREATE app'], expectedPredicates: [{ predicateType: SLSA_PROVENANCE_V1, functionaries: [alice.keyid] }] },
        { name: 'use', expectedMaterials: [`MATCH app WITH products FROM ${name}`, 'DISALLOW *'], expectedPredicates: [{ predicateType: 'https://x/y', functionaries: [alice.keyid] }] }] };
      try {
        const v = await run(await signedLayout(doc), new Map([[`${name}.x.json`, await envelope(prov({}), alice)], ['use.x.json', await envelope({ ...prov({}), predicateType: 'https://x/y' }, alice)]]));
        show(`F12 step ${name}`, v);
      } catch (e) { console.log(`F12 ${name} THREW`, e); }
    }
  });
});
