import { type AstmComment, readAstmComment } from './astm-comment.ts';
import type { AstmDelimiters } from './astm-delimiters.ts';
import { type AstmHeader, readAstmHeader } from './astm-header.ts';
import { type AstmOrder, readAstmOrder } from './astm-order.ts';
import { type AstmPatient, readAstmPatient } from './astm-patient.ts';
import type { AstmRecord } from './astm-record.ts';
import { type AstmResult, readAstmResult } from './astm-result.ts';

/** A result with the patient and order it belongs to and the comments that follow it. */
export interface AstmResultInContext {
  readonly patient?: AstmPatient;
  readonly order?: AstmOrder;
  readonly result: AstmResult;
  /** C records directly after the R record. */
  readonly comments: readonly AstmComment[];
  readonly record: AstmRecord;
}

/**
 * One E1394 / LIS02-A2 message: H, then the P → O → R hierarchy with C and M records attached
 * to the record before them, ending with L.
 */
export class AstmMessage {
  readonly records: readonly [AstmRecord, ...AstmRecord[]];

  constructor(records: readonly [AstmRecord, ...AstmRecord[]]) {
    this.records = records;
  }

  /** Delimiters declared by the header. */
  get delimiters(): AstmDelimiters {
    return this.records[0].delimiters;
  }

  /** The H record, typed. */
  get header(): AstmHeader {
    return readAstmHeader(this.records[0]);
  }

  /** Records of one type, in order. */
  all(type: string): AstmRecord[] {
    return this.records.filter((r) => r.type === type);
  }

  /** True when the message ends with an L record. */
  get terminated(): boolean {
    return this.records[this.records.length - 1]?.type === 'L';
  }

  /** Every R record with its patient, order and comments, following the record hierarchy. */
  results(): AstmResultInContext[] {
    const out: {
      patient?: AstmPatient;
      order?: AstmOrder;
      result: AstmResult;
      comments: AstmComment[];
      record: AstmRecord;
    }[] = [];
    let patient: AstmPatient | undefined;
    let order: AstmOrder | undefined;
    let last: (typeof out)[number] | undefined;
    for (const r of this.records) {
      if (r.type === 'P') {
        patient = readAstmPatient(r);
        order = undefined;
        last = undefined;
      } else if (r.type === 'O') {
        order = readAstmOrder(r);
        last = undefined;
      } else if (r.type === 'R') {
        last = {
          ...(patient ? { patient } : {}),
          ...(order ? { order } : {}),
          result: readAstmResult(r),
          comments: [],
          record: r,
        };
        out.push(last);
      } else if (r.type === 'C') {
        last?.comments.push(readAstmComment(r));
      } else if (r.type !== 'M') {
        last = undefined;
      }
    }
    return out;
  }
}
