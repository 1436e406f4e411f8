import type { KeyFile, LayoutSpec } from './scenario.js';
export function layoutDocParts(spec: LayoutSpec): { steps: Record<string, unknown>[]; inspect: Record<string, unknown>[]; keys: KeyFile[] };
export function demoInspection(allow?: string[]): { name: string; run: string[]; expected_materials: string[][]; expected_products: string[][] };
export function demoLayoutSpec(keys: Record<string, KeyFile>, extra?: Partial<LayoutSpec>, allow?: string[]): LayoutSpec;
export function sublayoutSpecs(keys: Record<string, KeyFile>): { sub: LayoutSpec; root: LayoutSpec };
