import { Errors } from '../core/fhir/errors.ts';

/** One RFC 6902 operation. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw Errors.invalidPatch(`'${pointer}' is not a JSON Pointer`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function walk(doc: unknown, tokens: string[]): { parent: Container; key: string } {
  let cur = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[t];
    else cur = undefined;
    if (cur === undefined || cur === null || typeof cur !== 'object') {
      throw Errors.invalidPatch(`path '/${tokens.slice(0, i + 1).join('/')}' does not exist`);
    }
  }
  return { parent: cur as Container, key: tokens[tokens.length - 1]! };
}

function get(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[t];
    else cur = undefined;
    if (cur === undefined) throw Errors.invalidPatch(`path '${pointer}' does not exist`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw Errors.invalidPatch(`'${key}' is not an array index`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i >= arr.length)) throw Errors.invalidPatch(`array index ${i} is out of range`);
  return i;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = walk(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw Errors.invalidPatch('cannot remove the whole document');
  const { parent, key } = walk(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else {
    if (!(key in parent)) throw Errors.invalidPatch(`path '${pointer}' does not exist`);
    delete parent[key];
  }
  return doc;
}

/** Applies an RFC 6902 JSON Patch to a copy of `doc`; a failed `test` or bad path is a 422. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw Errors.invalidPatch('a JSON Patch document is an array of operations');
  let out = structuredClone(doc);
  for (const [i, raw] of ops.entries()) {
    const op = raw as PatchOperation;
    if (!op || typeof op !== 'object' || typeof op.path !== 'string')
      throw Errors.invalidPatch(`operation ${i} has no path`);
    switch (op.op) {
      case 'add':
        out = add(out, op.path, structuredClone(op.value));
        break;
      case 'remove':
        out = remove(out, op.path);
        break;
      case 'replace':
        get(out, op.path);
        out = add(remove(out, op.path), op.path, structuredClone(op.value));
        break;
      case 'move': {
        const v = get(out, op.from ?? '');
        out = add(remove(out, op.from ?? ''), op.path, v);
        break;
      }
      case 'copy':
        out = add(out, op.path, structuredClone(get(out, op.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(get(out, op.path)) !== JSON.stringify(op.value)) {
          throw Errors.invalidPatch(`test failed at '${op.path}'`);
        }
        break;
      default:
        throw Errors.invalidPatch(`operation ${i} has unknown op '${String((op as { op?: unknown }).op)}'`);
    }
  }
  return out;
}
