/** Identity policy over a signer identity (a Fulcio certificate's SAN, OIDC issuer and extensions). */
import { describe, expect, it } from 'vitest';
import { identityMismatches, type SignerIdentity } from '../../bindings/sigstore/identity.js';

const identity: SignerIdentity = {
  uris: ['https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0'],
  emails: [],
  issuer: 'https://token.actions.githubusercontent.com',
  extensions: { sourceRepositoryURI: 'https://github.com/acme/app', sourceRepositoryRef: 'refs/tags/v1.2.0', buildTrigger: 'push' },
};

describe('identityMismatches', () => {
  it('meets an exact SAN and issuer, and required extensions', () => {
    expect(identityMismatches(identity, { san: identity.uris[0]!, issuer: identity.issuer!, extensions: { sourceRepositoryURI: 'https://github.com/acme/app', buildTrigger: 'push' } })).toEqual([]);
  });

  it('says each way it falls short: SAN, issuer, an extension', () => {
    expect(identityMismatches(identity, { san: 'https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.0', issuer: 'https://accounts.google.com', extensions: { sourceRepositoryRef: 'refs/heads/main' } })).toEqual([
      `the certificate's identity is ${identity.uris[0]}, not https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.0`,
      "the certificate's OIDC issuer is https://token.actions.githubusercontent.com, not https://accounts.google.com",
      "the certificate's sourceRepositoryRef is refs/tags/v1.2.0, not refs/heads/main",
    ]);
  });

  it('a pattern must match the whole SAN (an unanchored prefix does not let a look-alike through)', () => {
    const policy = { sanPattern: /https:\/\/github\.com\/acme\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v\d+\.\d+\.\d+/, issuer: identity.issuer! };
    expect(identityMismatches(identity, policy)).toEqual([]);
    const lookalike = { ...identity, uris: ['https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0.evil'] };
    expect(identityMismatches(lookalike, policy)).toHaveLength(1);
    expect(identityMismatches({ ...identity, uris: ['x' + identity.uris[0]] }, policy)).toHaveLength(1);
  });

  it('a policy that names no signer or no issuer is refused: it would let anyone through', () => {
    expect(() => identityMismatches(identity, { issuer: identity.issuer! })).toThrow(expect.objectContaining({ code: 'FORMAT' }));
    expect(() => identityMismatches(identity, { san: identity.uris[0]! })).toThrow(/needs the signer/);
  });

  it('an identity without an issuer never meets a policy', () => {
    const { issuer: _, ...noIssuer } = identity;
    expect(identityMismatches(noIssuer, { san: identity.uris[0]!, issuerPattern: /.*/ })).toEqual(["the certificate's OIDC issuer is absent, not one matching /.*/"]);
  });
});
