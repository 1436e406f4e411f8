/**
 * Foreign metadata (in-toto-golang, in-toto-rs, in-toto python >= 2 test data) read by our models and by the
 * reference's: the same verdict, file by file. The vectors are not ours to ship: this suite reads them in place
 * from the folder named by IN_TOTO_FOREIGN_VECTORS (CI: ../shared/vectors/foreign), run by `npm run test:interop`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InTotoError } from '../../bindings/errors.js';
import { layoutToJSON, linkToJSON, listUnknownFields, parseLayout, parseLink, parseSigned, type Layout, type Link } from '../../bindings/metadata/models.js';
import { referenceRead, stable, type Doc, type Json } from '../helpers/models-reference.js';
import { assertReferenceInstalled } from '../helpers/reference.js';
import { foreignVectors } from './vectors.js';

const FOREIGN = foreignVectors();

beforeAll(() => {
  assertReferenceInstalled();
});

function baseLink(): Doc {
  return {
    _type: 'link',
    name: 'build',
    materials: { 'src/a.c': { sha256: 'ab'.repeat(32) } },
    products: { app: { sha256: 'cd'.repeat(32), sha512: 'ef'.repeat(64) } },
    byproducts: { stdout: '', stderr: '', 'return-value': 0 },
    command: ['make'],
    environment: {},
  };
}

describe('unknown fields and foreign metadata', () => {
  it('keeps unknown fields in extra, lists them, and writes what the reference writes (without them)', () => {
    const signed = JSON.parse(readFileSync(join(FOREIGN, 'in-toto-golang/test/data/demo.layout'), 'utf8')).signed as Doc;
    const layout = parseLayout(signed);
    expect(listUnknownFields(layout).sort()).toEqual(['intermediatecas', 'rootcas', 'steps[0].cert_constraints']);
    expect(layout.steps[0]!.extra.cert_constraints).toEqual(signed.steps && (signed.steps as Doc[])[0]!.cert_constraints);
    expect(Object.keys(layout.extra).sort()).toEqual(['intermediatecas', 'rootcas']);
    const [reference] = referenceRead([{ kind: 'layout', doc: signed }]);
    expect(reference!.verdict).toBe('rewrites');
    expect(stable(layoutToJSON(layout))).toBe(stable(reference!.written));

    const link = parseLink({ ...baseLink(), signer: 'x', constructor: 1 });
    expect(listUnknownFields(link).sort()).toEqual(['constructor', 'signer']);
    expect(linkToJSON(link)).not.toHaveProperty('signer');
  });

  const files = (function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return /\.(link|layout|template|json)$/.test(name) ? [path] : [];
    });
  })(FOREIGN);
  // The DSSE protocol vectors are not in-toto metadata; the three implementations' folders are.
  const metadataFiles = files.filter((path) => /^in-toto-(golang|python|rs)\//.test(relative(FOREIGN, path)));

  /** The `signed` part of a metablock, or the payload of a DSSE envelope. */
  function signedPart(path: string): Json {
    const file = JSON.parse(readFileSync(path, 'utf8')) as Doc;
    if ('signed' in file) return file.signed!;
    return JSON.parse(Buffer.from(file.payload as string, 'base64').toString('utf8')) as Json;
  }

  /** Where our verdict is not simply the reference's, this pins it (and why). */
  const PINNED: Record<string, { refused?: string; unknown?: string[] }> = {
    // unsigned templates: 1.3.1 fills in an expiry when it loads them
    'in-toto-python/tests/demo_files/demo.layout.template': { refused: 'expires' },
    'in-toto-python/tests/demo_files_gpg/demo.layout.template': { refused: 'expires' },
    'in-toto-python/tests/demo_dsse_files/demo.layout.template': { refused: 'expires' },
    'in-toto-golang/test/data/demo.layout': { unknown: ['intermediatecas', 'rootcas', 'steps[0].cert_constraints'] },
    'in-toto-golang/test/data/super.layout': { unknown: ['intermediatecas', 'rootcas', 'steps[0].cert_constraints'] },
    'in-toto-rs/tests/test_metadata/demo.link': { refused: 'environment' },
    'in-toto-rs/examples/example_link.json': { refused: '_type' },
  };

  it('gives the verdict of the reference on every foreign layout and link', () => {
    expect(metadataFiles.length).toBeGreaterThanOrEqual(28);
    const docs = metadataFiles.map(signedPart);
    const reference = referenceRead(docs.map((doc) => ({ kind: 'signed', doc })));
    metadataFiles.forEach((path, i) => {
      const name = relative(FOREIGN, path);
      const { verdict, written } = reference[i]!;
      const pinned = PINNED[name];
      let ours: Layout | Link | undefined;
      let error: InTotoError | undefined;
      try {
        ours = parseSigned(docs[i]);
      } catch (e) {
        if (!(e instanceof InTotoError)) throw e;
        error = e;
      }
      if (pinned?.refused !== undefined) {
        expect(error?.field, name).toBe(pinned.refused);
        expect(verdict, name).not.toBe('accepts');
      } else if (verdict === 'refuses') {
        expect(error?.code, name).toBe('FORMAT');
      } else {
        expect(error, name).toBeUndefined();
        const json = ours!.type === 'layout' ? layoutToJSON(ours!) : linkToJSON(ours!);
        expect(stable(json), name).toBe(stable(written));
        expect(listUnknownFields(ours!).sort(), name).toEqual(pinned?.unknown ?? []);
        expect(verdict, name).toBe(pinned?.unknown === undefined ? 'accepts' : 'rewrites');
      }
    });
  });
});

