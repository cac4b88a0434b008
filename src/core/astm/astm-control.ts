/**
 * Control characters of the low-level protocol (ASTM E1381-02 / CLSI LIS01-A2, "Data link layer"
 * and "Frame" clauses).
 */
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ENQ = 0x05;
export const ACK = 0x06;
export const LF = 0x0a;
export const CR = 0x0d;
export const NAK = 0x15;
export const ETB = 0x17;

/**
 * Largest frame text: 240 characters. LIS01-A2 limits a frame to 247 characters including the seven
 * framing characters (STX, FN, ETB/ETX, C1, C2, CR, LF); a longer message is split into intermediate
 * (ETB) frames and a last (ETX) frame.
 */
export const ASTM_MAX_FRAME_TEXT = 240;
