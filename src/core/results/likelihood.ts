import type { LikelihoodTable } from './rule-set.ts';

/** A post-test probability with the numbers behind it and its explanation in Danish and English. */
export interface PostTest {
  readonly table: string;
  readonly condition: string;
  readonly preTest: number;
  readonly lr: number;
  readonly band: string;
  readonly postTest: number;
  readonly text: { readonly en: string; readonly da: string };
  readonly source: string;
}

/** Bayes with odds: post-odds = pre-odds × LR; p = odds / (1 + odds) (ordering-and-results.md §5.1). */
export function postTestProbability(preTest: number, lr: number): number {
  const odds = (preTest / (1 - preTest)) * lr;
  return odds / (1 + odds);
}

const pct = (p: number) => `${(Math.round(p * 1000) / 10).toFixed(1)} %`;

/** The post-test probability of the table's condition for a result, or undefined when no band covers it. */
export function interpretWithLikelihood(table: LikelihoodTable, value: number, preTest: number): PostTest | undefined {
  if (!(preTest > 0 && preTest < 1)) return undefined;
  const band = table.bands.find(
    (b) => (b.low === undefined || value >= b.low) && (b.high === undefined || value < b.high),
  );
  if (!band) return undefined;
  const postTest = postTestProbability(preTest, band.lr);
  return {
    table: table.id,
    condition: table.condition,
    preTest,
    lr: band.lr,
    band: band.label,
    postTest,
    text: {
      en: `Pre-test probability of ${table.conditionText.en} ${pct(preTest)}; result ${band.label} has likelihood ratio ${band.lr}; post-test probability ${pct(postTest)}.`,
      da: `Prætest-sandsynlighed for ${table.conditionText.da} ${pct(preTest)}; svaret ${band.label} har likelihood ratio ${band.lr}; posttest-sandsynlighed ${pct(postTest)}.`,
    },
    source: table.source,
  };
}
