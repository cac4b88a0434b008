import type { AstmRecord } from './astm-record.ts';

/** Typed view of the message header record (E1394 / LIS02-A2 H record). */
export interface AstmHeader {
  /** H-2 delimiter definition as sent. */
  readonly delimiterDefinition: string;
  readonly messageControlId: string;
  /** H-5 sender name or ID, all components (vendor-defined: name, software version, serial …). */
  readonly sender: readonly string[];
  /** H-5.1: instrument name, the usual instrument identification. */
  readonly senderName: string;
  /** H-10 receiver ID. */
  readonly receiverId: string;
  /** H-12 processing ID: P production, T training, D debugging, Q quality control. */
  readonly processingId: string;
  /** H-13 version number (e.g. `1`, `LIS2-A2`, `E1394-97`). */
  readonly version: string;
  /** H-14 message date-time as sent (YYYYMMDDHHMMSS). */
  readonly dateTime: string;
}

/** Reads an H record. */
export function readAstmHeader(h: AstmRecord): AstmHeader {
  const sender = h.components(5).map((c) => c.trim());
  return {
    delimiterDefinition: h.raw(2),
    messageControlId: h.get(3),
    sender,
    senderName: sender[0] ?? '',
    receiverId: h.get(10),
    processingId: h.get(12),
    version: h.get(13),
    dateTime: h.get(14),
  };
}
