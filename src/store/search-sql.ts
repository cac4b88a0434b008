import { Errors } from '../core/fhir/errors.ts';
import { type SearchParamDef, searchParam } from '../core/fhir/search-parameters.ts';
import type { ParamValue, RangeValue, SearchFilter, SearchRequest } from '../core/fhir/search-request.ts';
import { systemKey } from '../core/fhir/system-key.ts';

/** Resolves a (resource type, parameter code) to its numeric id in `search_param`; -1 when unknown. */
export type PidLookup = (type: string, code: string) => number;

/** SQL text with its bound parameters. Values are always bound, never concatenated. */
export interface Sql {
  text: string;
  params: unknown[];
}

const TABLE_OF: Record<string, string> = {
  token: 'idx_token',
  uri: 'idx_token',
  string: 'idx_string',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  reference: 'idx_reference',
  composite: 'idx_composite',
};

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
/** Upper bound for a prefix range scan on binary-collated text. */
const PREFIX_END = '\uffff';

class Compiler {
  readonly params: unknown[] = [];
  private readonly pid: PidLookup;
  constructor(pid: PidLookup) {
    this.pid = pid;
  }

  /**
   * `pid IN (…)` for a parameter (or its derived `:text`/`:identifier` rows), following
   * `storedAs` aliases; a restricted reference alias adds its target type.
   */
  pidCond(type: string, def: SearchParamDef, suffix = '', column = 'pid'): string {
    const codes = def.storedAs ? def.storedAs.codes : [def.code];
    const list = codes.map((c) => this.bind(this.pid(type, c + suffix))).join(', ');
    const cond = codes.length === 1 ? `${column} = ${list}` : `${column} IN (${list})`;
    if (def.storedAs?.refType && suffix === '') {
      const refCol = column.includes('.') ? `${column.split('.')[0]}.ref_type` : 'ref_type';
      return `${cond} AND ${refCol} = ${this.bind(def.storedAs.refType)}`;
    }
    return cond;
  }

  bind(v: unknown): string {
    this.params.push(v);
    return '?';
  }

  /** A condition on a date range column pair against a search range (R4 §3.1.1.4.3 prefixes). */
  dateCond(lo: string, hi: string, v: RangeValue): string {
    const [slo, shi] = [v.lo, v.hi];
    switch (v.prefix) {
      case 'eq':
        return `(${lo} >= ${this.bind(slo)} AND ${hi} <= ${this.bind(shi)})`;
      case 'ne':
        return `(${lo} < ${this.bind(slo)} OR ${hi} > ${this.bind(shi)})`;
      case 'gt':
        return `${hi} > ${this.bind(shi)}`;
      case 'lt':
        return `${lo} < ${this.bind(slo)}`;
      case 'ge':
        return `(${hi} > ${this.bind(shi)} OR (${lo} >= ${this.bind(slo)} AND ${hi} <= ${this.bind(shi)}))`;
      case 'le':
        return `(${lo} < ${this.bind(slo)} OR (${lo} >= ${this.bind(slo)} AND ${hi} <= ${this.bind(shi)}))`;
      case 'sa':
        return `${lo} > ${this.bind(shi)}`;
      case 'eb':
        return `${hi} < ${this.bind(slo)}`;
      case 'ap': {
        // Whole milliseconds: the columns are integers.
        const tol = Math.round(Math.abs(Date.now() - v.value) * 0.1);
        return `(${lo} <= ${this.bind(shi + tol)} AND ${hi} >= ${this.bind(slo - tol)})`;
      }
    }
  }

  /** A condition on a number/quantity (point or Range) against a search number (R4 §3.1.1.4.1). */
  numberCond(lo: string, hi: string, v: RangeValue): string {
    switch (v.prefix) {
      case 'eq':
        return `(${lo} >= ${this.bind(v.lo)} AND ${hi} < ${this.bind(v.hi)})`;
      case 'ne':
        return `(${lo} < ${this.bind(v.lo)} OR ${hi} >= ${this.bind(v.hi)})`;
      case 'gt':
      case 'sa':
        return `${lo} > ${this.bind(v.value)}`;
      case 'lt':
      case 'eb':
        return `${hi} < ${this.bind(v.value)}`;
      case 'ge':
        return `${lo} >= ${this.bind(v.value)}`;
      case 'le':
        return `${hi} <= ${this.bind(v.value)}`;
      case 'ap': {
        const tol = Math.abs(v.value) * 0.1;
        return `(${lo} <= ${this.bind(v.value + tol)} AND ${hi} >= ${this.bind(v.value - tol)})`;
      }
    }
  }

  tokenCond(codeCol: string, systemCol: string, v: ParamValue): string {
    if (v.kind !== 'token') throw Errors.badRequest('token value expected');
    const parts: string[] = [];
    if (v.code !== undefined) parts.push(`${codeCol} = ${this.bind(v.code)}`);
    if (v.system !== undefined) parts.push(`${systemCol} = ${this.bind(systemKey(v.system))}`);
    return parts.length ? `(${parts.join(' AND ')})` : '1=1';
  }

  stringCond(col: string, v: ParamValue, modifier: string | undefined, rawCol?: string): string {
    if (v.kind !== 'string') throw Errors.badRequest('string value expected');
    if (modifier === 'exact') return `${rawCol ?? col} = ${this.bind(v.value)}`;
    if (modifier === 'contains') return `${col} LIKE ${this.bind(`%${escapeLike(v.norm)}%`)} ESCAPE '\\'`;
    return `(${col} >= ${this.bind(v.norm)} AND ${col} < ${this.bind(v.norm + PREFIX_END)})`;
  }

  /** Condition for one value of a parameter, inside a subquery on the parameter's index table. */
  valueCond(def: SearchParamDef, v: ParamValue, modifier: string | undefined): string {
    switch (def.type) {
      case 'token':
        return this.tokenCond('code', 'system', v);
      case 'uri': {
        if (v.kind !== 'string') throw Errors.badRequest('uri value expected');
        if (modifier === 'below') return `code LIKE ${this.bind(`${escapeLike(v.value)}%`)} ESCAPE '\\'`;
        if (modifier === 'above') return `substr(${this.bind(v.value)}, 1, length(code)) = code`;
        return `code = ${this.bind(v.value)}`;
      }
      case 'string':
        return this.stringCond('norm', v, modifier, 'raw');
      case 'date':
        if (v.kind !== 'range') throw Errors.badRequest('date value expected');
        return this.dateCond('lo', 'hi', v);
      case 'number':
        if (v.kind !== 'range') throw Errors.badRequest('number value expected');
        return this.numberCond('value', 'value', v);
      case 'quantity': {
        if (v.kind !== 'range') throw Errors.badRequest('quantity value expected');
        const parts = [this.numberCond('lo', 'hi', v)];
        if ('code' in v && v.code !== undefined) parts.push(`code = ${this.bind(v.code)}`);
        if ('system' in v && v.system !== undefined) parts.push(`system = ${this.bind(systemKey(v.system))}`);
        return `(${parts.join(' AND ')})`;
      }
      case 'reference': {
        if (v.kind !== 'reference') throw Errors.badRequest('reference value expected');
        if (v.type === undefined) return `ref_id = ${this.bind(v.id)}`;
        return `(ref_id = ${this.bind(v.id)} AND ref_type = ${this.bind(v.type)})`;
      }
      case 'composite': {
        if (v.kind !== 'composite') throw Errors.badRequest('composite value expected');
        const [a, b] = v.parts;
        const comps = def.components!;
        const aCond =
          a.kind === 'reference'
            ? `(a_code = ${this.bind(a.id)}${a.type ? ` AND a_system = ${this.bind(systemKey(a.type))}` : ''})`
            : this.tokenCond('a_code', 'a_system', a);
        let bCond: string;
        switch (comps[1]!.def.type) {
          case 'token':
            bCond = this.tokenCond('b_code', 'b_system', b);
            break;
          case 'quantity': {
            const q = b as RangeValue & { code?: string; system?: string };
            const parts = [this.numberCond('b_lo', 'b_hi', q)];
            if (q.code !== undefined) parts.push(`b_code = ${this.bind(q.code)}`);
            if (q.system !== undefined) parts.push(`b_system = ${this.bind(systemKey(q.system))}`);
            bCond = `(${parts.join(' AND ')})`;
            break;
          }
          case 'date':
            bCond = this.dateCond('b_lo', 'b_hi', b as RangeValue);
            break;
          case 'string':
            bCond = this.stringCond('b_text', b, undefined);
            break;
          default:
            bCond =
              b.kind === 'reference'
                ? `(b_code = ${this.bind(b.id)}${b.type ? ` AND b_system = ${this.bind(systemKey(b.type))}` : ''})`
                : this.tokenCond('b_code', 'b_system', b);
        }
        return `(${aCond} AND ${bCond})`;
      }
      default:
        throw Errors.notSupported(`Search on '${def.code}'`);
    }
  }

  /** A condition that `rid` satisfies the filter. */
  /**
   * A condition that `rid` satisfies the filter: `rid IN (…)` (a driving set of rows), or with
   * `exists` a correlated per-row {@link probe}.
   */
  filter(f: SearchFilter, rid: string, type: string, exists = false): string {
    switch (f.kind) {
      case 'id': {
        // Bind in the order the placeholders appear in the text.
        const t = this.bind(type);
        const list = f.values.map((v) => this.bind(v)).join(',');
        return `${rid} ${f.not ? 'NOT ' : ''}IN (SELECT rid FROM resource WHERE type = ${t} AND id IN (${list}))`;
      }
      case 'lastUpdated':
        return `${rid} IN (SELECT rid FROM resource WHERE type = ${this.bind(type)} AND (${f.values
          .map((v) => this.dateCond('last_updated', 'last_updated', v))
          .join(' OR ')}))`;
      case 'chain': {
        const pid = this.pidCond(type, f.def, '', 'ref.pid');
        const conds = f.targetTypes.map((t) => {
          const tt = this.bind(t);
          return `(t.type = ${tt} AND ${this.filter(retarget(f.inner, t), 't.rid', t)})`;
        });
        return `${rid} IN (SELECT ref.rid FROM resource t JOIN idx_reference ref ON ${pid} AND ref.ref_id = t.id AND ref.ref_type = t.type WHERE t.deleted = 0 AND (${conds.join(' OR ')}))`;
      }
      case 'has': {
        const pid = this.pidCond(f.type, f.refParam, '', 'ref.pid');
        const t = this.bind(type);
        return `${rid} IN (SELECT t.rid FROM idx_reference ref JOIN resource t ON t.type = ref.ref_type AND t.id = ref.ref_id WHERE ${pid} AND t.type = ${t} AND ${this.filter(f.inner, 'ref.rid', f.type)})`;
      }
      case 'param': {
        const def = f.def;
        if (def.type === 'composite' && def.storedAs) return this.compositeAlias(f, rid, type, exists);
        let table = TABLE_OF[def.type];
        let suffix = '';
        if (def.type === 'token' && f.modifier === 'text') {
          table = 'idx_string';
          suffix = ':text';
        } else if (def.type === 'reference' && f.modifier === 'identifier') {
          table = 'idx_token';
          suffix = ':identifier';
        }
        if (!table) throw Errors.notSupported(`Search on '${def.code}'`);
        if (f.missing !== undefined) {
          const pid = this.pidCond(type, def, suffix);
          return exists
            ? probe(table, pid, rid, f.missing)
            : `${rid} ${f.missing ? 'NOT ' : ''}IN (SELECT rid FROM ${table} WHERE ${pid})`;
        }
        const condOf = (v: ParamValue): string => {
          if (f.modifier === 'text') {
            const norm = v.kind === 'string' ? v.norm : '';
            return `(norm LIKE ${this.bind(`${escapeLike(norm)}%`)} ESCAPE '\\' OR norm LIKE ${this.bind(`% ${escapeLike(norm)}%`)} ESCAPE '\\')`;
          }
          if (f.modifier === 'identifier') return this.tokenCond('code', 'system', v);
          return this.valueCond(def, v, f.modifier);
        };
        const not = f.modifier === 'not';
        if (!exists && f.values.length > 1) {
          // Several values driving the query: the parameter id goes into each alternative, so that
          // each is one index range (SQLite's multi-index OR, PostgreSQL's BitmapOr) instead of a
          // scan of every row of the parameter. Placeholders are bound in text order.
          const alternatives = f.values.map((v) => {
            const pid = this.pidCond(type, def, suffix);
            return `(${pid} AND ${condOf(v)})`;
          });
          return `${rid} ${not ? 'NOT ' : ''}IN (SELECT rid FROM ${table} WHERE ${alternatives.join(' OR ')})`;
        }
        if (exists && f.values.length > 1) {
          // One probe per value, each a primary-key lookup: with the values OR-ed inside one probe
          // SQLite may scan every row of the parameter for each candidate (seen with statistics
          // of a lab load: 0.5 s for 200 results of 20 patients).
          const probes = f.values.map((v) =>
            probe(table, `${this.pidCond(type, def, suffix)} AND ${condOf(v)}`, rid, not),
          );
          return `(${probes.join(not ? ' AND ' : ' OR ')})`;
        }
        const pid = this.pidCond(type, def, suffix);
        const conds = f.values.map(condOf);
        if (exists) {
          return probe(table, `${pid} AND (${conds.join(' OR ')})`, rid, not);
        }
        return `${rid} ${not ? 'NOT ' : ''}IN (SELECT rid FROM ${table} WHERE ${pid} AND (${conds.join(' OR ')}))`;
      }
    }
  }

  /**
   * A composite answered from other parameters' rows: a root composite is the conjunction of its
   * components on the same resource; a union (`combo-…`) is the disjunction of its parts.
   */
  compositeAlias(f: Extract<SearchFilter, { kind: 'param' }>, rid: string, type: string, exists: boolean): string {
    const stored = f.def.storedAs!;
    if (stored.conjunction) {
      const [c1, c2] = stored.conjunction.map((code) => searchParam(type, code)!);
      const ors = f.values.map((v) => {
        if (v.kind !== 'composite') throw Errors.badRequest('composite value expected');
        const a = this.filter(
          { kind: 'param', def: c1!, modifier: undefined, values: [v.parts[0]] },
          rid,
          type,
          exists,
        );
        const b = this.filter(
          { kind: 'param', def: c2!, modifier: undefined, values: [v.parts[1]] },
          rid,
          type,
          exists,
        );
        return `(${a} AND ${b})`;
      });
      return `(${ors.join(' OR ')})`;
    }
    const parts = stored.codes.map((code) => this.filter({ ...f, def: searchParam(type, code)! }, rid, type, exists));
    return `(${parts.join(' OR ')})`;
  }

  sortExpr(def: SearchParamDef | '_id' | '_lastUpdated', desc: boolean, type: string): string {
    if (def === '_id') return 'r.id';
    if (def === '_lastUpdated') return 'r.last_updated';
    const agg = desc ? 'MAX' : 'MIN';
    const pid = this.pidCond(type, def, '', 's.pid');
    switch (def.type) {
      case 'date':
        return `(SELECT ${agg}(${desc ? 'hi' : 'lo'}) FROM idx_date s WHERE s.rid = r.rid AND ${pid})`;
      case 'string':
        return `(SELECT ${agg}(norm) FROM idx_string s WHERE s.rid = r.rid AND ${pid})`;
      case 'number':
        return `(SELECT ${agg}(value) FROM idx_number s WHERE s.rid = r.rid AND ${pid})`;
      case 'quantity':
        return `(SELECT ${agg}(lo) FROM idx_quantity s WHERE s.rid = r.rid AND ${pid})`;
      case 'reference':
        return `(SELECT ${agg}(ref_id) FROM idx_reference s WHERE s.rid = r.rid AND ${pid})`;
      default:
        return `(SELECT ${agg}(code) FROM idx_token s WHERE s.rid = r.rid AND ${pid})`;
    }
  }
}

/**
 * A per-row probe: a correlated scalar subquery with LIMIT, which neither engine turns into a
 * join (PostgreSQL flattens EXISTS into a hash semi-join that reads every row of a common code).
 * Answered by one primary-key lookup per candidate row.
 */
function probe(table: string, cond: string, rid: string, negate: boolean): string {
  return `(SELECT 1 FROM ${table} WHERE ${cond} AND rid = ${rid} LIMIT 1) IS ${negate ? '' : 'NOT '}NULL`;
}

function retarget(f: SearchFilter, type: string): SearchFilter {
  if (f.kind !== 'param' || f.def.resourceType === type) return f;
  const def = searchParam(type, f.def.code);
  if (!def) throw Errors.unknownSearchParam(type, f.def.code);
  return { ...f, def };
}

/** Most selective first: SQLite drives an `IN` chain from the first rowid constraint. */
function selectivity(f: SearchFilter): number {
  if (f.kind === 'id') return 0;
  if (f.kind === 'param' && (f.modifier === 'not' || f.missing !== undefined)) return 9;
  if (f.kind === 'param' && f.def.type === 'reference') return 1;
  if (f.kind === 'chain') return 2;
  if (f.kind === 'param' && f.def.code === 'identifier') return 1;
  if (f.kind === 'param' && f.def.type === 'composite') return 3;
  if (f.kind === 'param' && (f.def.type === 'token' || f.def.type === 'string')) return 4;
  return 5;
}

/**
 * The WHERE clause. The most selective positive filter drives (`r.rid IN (…)`); the others are
 * correlated EXISTS probes. When a filter drives, the type test is written so that no engine is
 * tempted to scan the whole type through the `(type, …)` indexes instead (`r.type || ''`): a
 * patient's few rows must not be found by reading every Observation.
 */
function whereClause(c: Compiler, req: SearchRequest): string {
  const filters = [...req.filters].sort((a, b) => selectivity(a) - selectivity(b));
  const drives = filters.length > 0 && selectivity(filters[0]!) < 9;
  const where = [
    drives ? `r.type || '' = ${c.bind(req.resourceType)}` : `r.type = ${c.bind(req.resourceType)}`,
    'r.deleted = 0',
  ];
  if (req.snapshot !== undefined) where.push(`r.rid <= ${c.bind(req.snapshot)}`);
  filters.forEach((f, i) => {
    where.push(c.filter(f, 'r.rid', req.resourceType, !(drives && i === 0)));
  });
  return where.join(' AND ');
}

/** The page query: rids and contents of the matches, one more than `count` to detect a next page. */
export function compileSearch(req: SearchRequest, pid: PidLookup): Sql {
  const c = new Compiler(pid);
  const where = whereClause(c, req);
  const order = req.sort.map(
    (s) => `${c.sortExpr(s.def, s.desc, req.resourceType)} ${s.desc ? 'DESC' : 'ASC'} NULLS LAST`,
  );
  order.push(req.sort.length && req.sort[req.sort.length - 1]!.desc ? 'r.rid DESC' : 'r.rid ASC');
  const limit = c.bind(req.count + 1);
  const offset = c.bind(req.offset);
  return {
    // A first page also reads the snapshot (highest rid) for its next links, in the same statement.
    text: `SELECT r.rid AS rid, r.content AS content${req.snapshot === undefined ? ', (SELECT MAX(rid) FROM resource) AS snap' : ''} FROM resource r WHERE ${where} ORDER BY ${order.join(', ')} LIMIT ${limit} OFFSET ${offset}`,
    params: c.params,
  };
}

/**
 * Several searches in one statement: every current match of each (its filters only; no sort,
 * paging or count), tagged with the search's index in `q`. For internal look-ups whose results are
 * few and read in full, where one round trip instead of one per search is what counts.
 */
export function compileEach(reqs: readonly SearchRequest[], pid: PidLookup): Sql {
  const c = new Compiler(pid);
  const parts = reqs.map(
    (req, i) => `SELECT ${i} AS q, r.content AS content FROM resource r WHERE ${whereClause(c, req)}`,
  );
  return { text: parts.join(' UNION ALL '), params: c.params };
}

/** The count query for `_total=accurate` and `_summary=count`. */
export function compileCount(req: SearchRequest, pid: PidLookup): Sql {
  const c = new Compiler(pid);
  const where = whereClause(c, req);
  return { text: `SELECT COUNT(*) AS n FROM resource r WHERE ${where}`, params: c.params };
}
