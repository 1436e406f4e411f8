/**
 * What the command-line tools add to a library error so that a person knows what to do next: the flag that
 * fixes it, or the tool that makes what was expected. Plain functions over messages, no I/O.
 */

/** A key-type mismatch says which flag fixes it: "expected an rsa key, found an ed25519 key: pass --key-types ed25519". */
export function withKeyTypeHint(message: string, flag: string): string {
  const found = /^expected an? \w+ key, found an? (\w+) key$/.exec(message)?.[1];
  return found === undefined ? message : `${message}: pass ${flag} ${found}`;
}

/**
 * A layout file that is not JSON but reads as a YAML description (what `in-toto-layout create` takes): say so,
 * and how to make the layout from it.
 */
export function descriptionHint(path: string, bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 4096)).trimStart();
  const yamlish = /\.ya?ml$/i.test(path) || /^(---|#|[A-Za-z_][\w-]*\s*:)/.test(text);
  return yamlish
    ? `; it looks like a layout description (YAML), not a signed layout: make one with 'in-toto-layout create ${path} -o root.layout -k OWNER_KEY'`
    : '';
}
