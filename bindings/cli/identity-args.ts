/**
 * The certificate-identity flags of the Sigstore tools (cosign's names): who a Fulcio certificate must name, read
 * into an `IdentityPolicy`, or a key instead. Shared by in-toto-sigstore verify-bundle and in-toto-vsa verify.
 */
import type { IdentityPolicy } from '../sigstore/identity.js';
import { UsageError, type OptionSpec, type Parsed } from './args.js';

export const IDENTITY_OPTIONS: readonly OptionSpec[] = [
  { name: 'certificate-identity', kind: 'one', metavar: 'ID', help: "the signer the certificate must name (its SAN: a URI such as a workflow's, or an email)" },
  { name: 'certificate-oidc-issuer', kind: 'one', metavar: 'URL', help: 'the OIDC issuer the certificate must name (e.g. https://token.actions.githubusercontent.com)' },
  { name: 'certificate-identity-regexp', kind: 'one', metavar: 'REGEXP', help: 'the signer, as a regular expression the whole SAN must match (instead of --certificate-identity)' },
  { name: 'certificate-oidc-issuer-regexp', kind: 'one', metavar: 'REGEXP', help: 'the OIDC issuer, as a regular expression matched whole (instead of --certificate-oidc-issuer)' },
  { name: 'certificate-github-workflow-repository', kind: 'one', metavar: 'OWNER/REPO', help: 'the GitHub repository the certificate must name (its workflow repository extension)' },
  { name: 'certificate-github-workflow-ref', kind: 'one', metavar: 'REF', help: 'the git ref it must name (e.g. refs/heads/main)' },
  { name: 'certificate-github-workflow-sha', kind: 'one', metavar: 'SHA', help: 'the commit it must name' },
  { name: 'certificate-github-workflow-trigger', kind: 'one', metavar: 'EVENT', help: 'the event that triggered the workflow (e.g. push)' },
  { name: 'certificate-github-workflow-name', kind: 'one', metavar: 'NAME', help: 'the workflow name it must name' },
];

const first = (parsed: Parsed, name: string) => parsed.values.get(name)?.[0];

function pattern(text: string | undefined, flag: string): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text, 'u');
  } catch (error) {
    throw new UsageError(`${flag}: not a regular expression: ${(error as Error).message}`);
  }
}

/**
 * The identity the flags name, or `undefined` when they name none. With `keyFlag` given on the command line, no
 * identity flag may be; with `identityRequired`, one of the two must be (`UsageError` otherwise).
 */
export function readIdentityPolicy(parsed: Parsed, keyFlag: string, identityRequired: boolean): IdentityPolicy | undefined {
  const identity = first(parsed, 'certificate-identity');
  const identityRegexp = first(parsed, 'certificate-identity-regexp');
  const issuer = first(parsed, 'certificate-oidc-issuer');
  const issuerRegexp = first(parsed, 'certificate-oidc-issuer-regexp');
  const key = parsed.values.has(keyFlag);
  const named = (a: string | undefined, b: string | undefined) => (a !== undefined ? 1 : 0) + (b !== undefined ? 1 : 0);
  const extensions = Object.fromEntries(
    ([['githubWorkflowRepository', 'repository'], ['githubWorkflowRef', 'ref'], ['githubWorkflowSha', 'sha'], ['githubWorkflowTrigger', 'trigger'], ['githubWorkflowName', 'name']] as const)
      .map(([ext, flag]) => [ext, first(parsed, `certificate-github-workflow-${flag}`)])
      .filter(([, v]) => v !== undefined),
  );
  const any = named(identity, identityRegexp) + named(issuer, issuerRegexp) + Object.keys(extensions).length > 0;
  if (named(identity, identityRegexp) > 1 || named(issuer, issuerRegexp) > 1) throw new UsageError('give an identity and an issuer each once: exactly, or by --...-regexp');
  if (key && any) throw new UsageError(`--${keyFlag} and a certificate identity are alternatives: give one`);
  if (key || (!any && !identityRequired)) return undefined;
  if (named(identity, identityRegexp) === 0 || named(issuer, issuerRegexp) === 0) throw new UsageError(`give --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp), or --${keyFlag}`);
  return {
    ...(identity !== undefined ? { san: identity } : { sanPattern: pattern(identityRegexp, '--certificate-identity-regexp')! }),
    ...(issuer !== undefined ? { issuer } : { issuerPattern: pattern(issuerRegexp, '--certificate-oidc-issuer-regexp')! }),
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
  };
}
