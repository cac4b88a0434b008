import { Buffer } from 'node:buffer';

/**
 * An ASTM E1394 message as an inbox stores it (records ending in CR): one analyzer (`name^1.0^serial`
 * in H-5), one sample (O-3) and its results (R: test code, value, R-9 status, default `F`).
 */
export function astmResults(
  analyzer: string,
  sample: string,
  results: readonly (readonly [string, string, string?])[],
  options: { readonly unit?: string; readonly serial?: string } = {},
): Buffer {
  const unit = options.unit ?? 'mmol/L';
  return Buffer.from(
    [
      `H|\\^&|||${analyzer}^1.0^${options.serial ?? 'SN1'}|||||||P|1|20250301120000`,
      'P|1',
      `O|1|${sample}||^^^${results.map((r) => r[0]).join('\\^^^')}`,
      ...results.map(([code, value, status], i) => `R|${i + 1}|^^^${code}|${value}|${unit}||N||${status ?? 'F'}`),
      'L|1|N',
      '',
    ].join('\r'),
    'latin1',
  );
}
