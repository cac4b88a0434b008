import type { SeedProgress } from './seed-region.ts';

/** One line of the seed progress bar: `[#####-----] 50% 500/1,000 patients, 29,800 results, 4,665 results/s, ETA 12 s`. */
export function formatSeedProgress(p: SeedProgress, width = 30): string {
  const share = p.totalPatients === 0 ? 1 : p.patients / p.totalPatients;
  const filled = Math.round(share * width);
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.results / seconds : 0;
  const eta = share > 0 ? seconds * (1 / share - 1) : 0;
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${n(p.patients)}/${n(p.totalPatients)} patients, ${n(p.results)} results, ${n(rate)} results/s, ${share < 1 ? `ETA ${formatDuration(eta)}` : `done in ${formatDuration(seconds)}`}`;
}

/** `75 s`, `12 min 5 s`, `1 h 3 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
