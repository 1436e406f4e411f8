export type TextValue = { readonly kind: 'string'; readonly bytes: Uint8Array } | { readonly kind: 'number'; readonly text: string } | { readonly kind: 'ident'; readonly text: string } | { readonly kind: 'message'; readonly fields: TextMessage } | { readonly kind: 'list'; readonly items: readonly TextValue[] };
export type TextMessage = readonly (readonly [string, TextValue])[];

export function parseTextproto(text: string): TextMessage;
export function field(m: TextMessage, key: string): TextValue | undefined;
export function fields(m: TextMessage, key: string): TextValue[];
export function messageOf(v: TextValue | undefined): TextMessage;
export function textOf(v: TextValue | undefined): string;
