/**
 * E1381 / LIS01-A2 frame checksum: the sum of every byte from the frame number up to and including
 * ETB or ETX, modulo 256, written as two upper-case hexadecimal characters. (The cobas c111 manual's
 * "modulus 8" is a typo; its frames verify with modulo 256.)
 */
export function astmChecksum(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}
