/** ASTM E1381 (LIS01) low-level protocol and E1394 (LIS02) records. Pure, no I/O. */
export { astmChecksum } from './astm-checksum.ts';
export { type AstmComment, readAstmComment } from './astm-comment.ts';
export { ACK, ASTM_MAX_FRAME_TEXT, CR, ENQ, EOT, ETB, ETX, LF, NAK, STX } from './astm-control.ts';
export { parseAstmDateTime } from './astm-date-time.ts';
export { type AstmDelimiters, astmDelimitersFromHeader, DEFAULT_ASTM_DELIMITERS } from './astm-delimiters.ts';
export { ASTM_ERRORS, type AstmError, type AstmErrorCode } from './astm-errors.ts';
export { escapeAstm, unescapeAstm } from './astm-escape.ts';
export { type AstmFrame, buildAstmFrame } from './astm-frame.ts';
export { type AstmHeader, readAstmHeader } from './astm-header.ts';
export { AstmMessage, type AstmResultInContext } from './astm-message.ts';
export { type AstmOrder, readAstmOrder } from './astm-order.ts';
export { type AstmPatient, readAstmPatient } from './astm-patient.ts';
export { type AstmQuery, readAstmQuery } from './astm-query.ts';
export {
  type AstmReceivedMessage,
  AstmReceiver,
  type AstmReceiverEvent,
  type AstmReceiverOptions,
  type AstmReceiverOutput,
} from './astm-receiver.ts';
export { AstmRecord } from './astm-record.ts';
export { type AstmResult, readAstmResult } from './astm-result.ts';
export { AstmSender, type AstmSenderEvent, type AstmSenderOptions, type AstmSenderOutput } from './astm-sender.ts';
export { type AstmTerminator, readAstmTerminator } from './astm-terminator.ts';
export { type AstmTestId, astmTestIdFrom } from './astm-test-id.ts';
export { type AstmToken, AstmTokenizer } from './astm-tokenizer.ts';
export { type AstmCapture, decodeAstmCapture } from './decode-astm-capture.ts';
export { type AstmFrameEncodeOptions, encodeAstmFrames } from './encode-astm-frames.ts';
export { type AstmParseOptions, parseAstmMessage, parseAstmMessages, parseAstmRecords } from './parse-astm.ts';
