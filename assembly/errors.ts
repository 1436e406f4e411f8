// Engine error codes. Returned by exported functions (0 = success); the byte offset of the problem is
// available from `error_offset()`. The numbers are part of the ABI (docs/ABI.md): never renumber.

export const OK: i32 = 0;
/** The input ended inside a value. */
export const E_UNEXPECTED_END: i32 = 1;
/** A byte that cannot start or continue a JSON value here. */
export const E_SYNTAX: i32 = 2;
/** Bytes that are not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, truncated). */
export const E_INVALID_UTF8: i32 = 3;
/** A backslash escape JSON does not define, or a malformed \uXXXX. */
export const E_INVALID_ESCAPE: i32 = 4;
/** A \uD800-\uDFFF escape that is not half of a valid surrogate pair: not encodable as UTF-8. */
export const E_LONE_SURROGATE: i32 = 5;
/** A raw control character (< 0x20) inside a string: JSON requires it escaped. */
export const E_CONTROL_CHARACTER: i32 = 6;
/** A number with a fraction or exponent: canonical JSON has no floats. */
export const E_FLOAT: i32 = 7;
/** A malformed number (leading zero, lone minus sign) or one longer than the digit limit. */
export const E_INVALID_NUMBER: i32 = 8;
/** The same key twice in one object: two parsers could read the document differently. */
export const E_DUPLICATE_KEY: i32 = 9;
/** Containers nested deeper than the configured limit. */
export const E_TOO_DEEP: i32 = 10;
/** Bytes after the top-level value. */
export const E_TRAILING_DATA: i32 = 11;
/** `select` asked for a member of the top-level object, but the document is not an object. */
export const E_NOT_AN_OBJECT: i32 = 12;
/** `select` asked for a member the top-level object does not have. */
export const E_MISSING_MEMBER: i32 = 13;
/** The input is larger than the configured limit. */
export const E_TOO_LARGE: i32 = 14;
/** An argument outside its documented range (a host bug, not bad input). */
export const E_BAD_ARGUMENT: i32 = 15;
/** A link's `materials` or `products` is not an object mapping paths to hash dicts (objects of hex strings). */
export const E_ARTIFACTS: i32 = 16;
/** `link_store` before `set_seed`: artifact tables are keyed by a secret the host must supply first. */
export const E_NO_SEED: i32 = 17;
/** A slot number that holds no stored link. */
export const E_NO_SLOT: i32 = 18;
/** A rules program that is valid JSON but not of the documented shape, or a malformed artifact rule. */
export const E_PROGRAM: i32 = 19;
/** `link_read`: a side of the link has more artifacts than the host's limit. */
export const E_TOO_MANY_ARTIFACTS: i32 = 20;
/** `link_read` with select 2: a DSSE envelope the engine does not read as a link attestation (the host reads it). */
export const E_NOT_LINK_ATTESTATION: i32 = 21;
