import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ensureWebBuilt, WEB_DIST } from '../scripts/build-web.ts';
import { quantile } from './load.ts';
import { type ScenarioContext, type ScenarioResult, withFreshServer } from './scenarios/harness.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Median and p95 of a list of milliseconds. */
function summary(ms: number[]): { p50: number; p95: number } {
  const sorted = Float64Array.from(ms).sort();
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
}

/**
 * `--only web`: the web app on the seeded demo region (`serve --demo`), in Chromium with a fresh
 * browser context per run (no HTTP cache: the pessimistic first visit). Measured from the start of
 * navigation, on the bench's clock:
 * - first screen interactive: the sign-in screen with its demo-user buttons rendered and enabled;
 * - patient overview ready: a signed-in clinician opens the demo patient until the cumulative
 *   table, the timeline and every trend chart are drawn (all of its queries answered);
 * - operations dashboard ready: a signed-in admin opens the dashboard until the turnaround chart,
 *   both turnaround sections and the work-in-progress figure are shown.
 */
export async function webScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM} (apt-get install -y chromium)`);
  await ensureWebBuilt({ quiet: true });
  const runs = ctx.quick ? 5 : 20;
  return withFreshServer(
    ctx,
    async () => undefined,
    async (server) => {
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        });
        const firstScreen: number[] = [];
        const overview: number[] = [];
        const dashboard: number[] = [];
        const firstScreenTaskMs: number[] = [];
        const firstScreenScriptMs: number[] = [];
        let firstScreenScripts = 0;
        let transferred = 0;
        for (let i = 0; i < runs + 1; i++) {
          const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'da-DK' });
          const page = await context.newPage();
          let bytes = 0;
          page.on('response', (r) => {
            void r.body().then(
              (b) => {
                bytes += b.length;
              },
              () => {},
            );
          });
          // The renderer's main-thread CPU (CDP Performance.getMetrics: TaskDuration, ScriptDuration)
          // until the first screen is interactive: less sensitive to a loaded machine than wall time.
          const cdp = await context.newCDPSession(page);
          await cdp.send('Performance.enable');
          let scripts = 0;
          page.on('request', (r) => {
            if (r.resourceType() === 'script') scripts++;
          });
          const t0 = performance.now();
          await page.goto(`${server.url}/`);
          await page.waitForSelector('#users button[data-user="demo-clinician"]:enabled');
          const t1 = performance.now();
          const metrics = new Map(
            (await cdp.send('Performance.getMetrics')).metrics.map((m: { name: string; value: number }) => [
              m.name,
              m.value,
            ]),
          );
          const scriptsAtFirstScreen = scripts;
          await page.click('button[data-user="demo-clinician"]');
          await page.waitForSelector('#patient-q');
          const t2 = performance.now();
          // Strings: the bench is type-checked without the DOM library.
          await page.evaluate("location.hash = '#/patients/demo-patient-1'");
          await page.waitForSelector('#cumulative table');
          await page.waitForSelector('#timeline tbody tr');
          await page.waitForFunction("document.querySelectorAll('#trends canvas').length === 3");
          const t3 = performance.now();
          // The operations dashboard as an admin (whole region): turnaround chart and tables drawn.
          await page.click('#signout');
          await page.click('button[data-user="demo-admin"]');
          await page.waitForSelector('#whoami');
          const t4 = performance.now();
          await page.evaluate("location.hash = '#/dashboard'");
          // Every section answered (a fresh region may have no turnaround rows yet: "no data").
          await page.waitForSelector('#tat-chart canvas');
          await page.waitForSelector('#tat-analysis[aria-busy="false"]');
          await page.waitForSelector('#wip output');
          const t5 = performance.now();
          // The first run warms the server (JIT, statement caches) and is not counted.
          if (i > 0) {
            firstScreen.push(t1 - t0);
            firstScreenTaskMs.push((metrics.get('TaskDuration') ?? 0) * 1000);
            firstScreenScriptMs.push((metrics.get('ScriptDuration') ?? 0) * 1000);
            firstScreenScripts = scriptsAtFirstScreen;
            overview.push(t3 - t2);
            dashboard.push(t5 - t4);
            transferred = bytes;
          }
          await context.close();
        }
        const assets = join(WEB_DIST, 'assets');
        const assetBytes = readdirSync(assets).reduce((n, f) => n + statSync(join(assets, f)).size, 0);
        const a = summary(firstScreen);
        const b = summary(overview);
        const c = summary(dashboard);
        const task = summary(firstScreenTaskMs);
        const script = summary(firstScreenScriptMs);
        ctx.log(
          `  first screen p50 ${a.p50.toFixed(0)} ms (renderer main thread ${task.p50.toFixed(0)} ms, script ${script.p50.toFixed(0)} ms, ${firstScreenScripts} script files), overview ready p50 ${b.p50.toFixed(0)} ms, dashboard ready p50 ${c.p50.toFixed(0)} ms (${runs} runs)`,
        );
        return {
          figures: [
            { key: 'web.firstScreen.p50', label: 'web: first screen interactive, p50', value: a.p50, unit: 'ms' },
            { key: 'web.firstScreen.p95', label: 'web: first screen interactive, p95', value: a.p95, unit: 'ms' },
            {
              key: 'web.firstScreen.taskMs.p50',
              label: 'web: first screen, renderer main-thread CPU, p50',
              value: task.p50,
              unit: 'ms',
            },
            { key: 'web.overview.p50', label: 'web: patient overview ready, p50', value: b.p50, unit: 'ms' },
            { key: 'web.overview.p95', label: 'web: patient overview ready, p95', value: b.p95, unit: 'ms' },
            { key: 'web.dashboard.p50', label: 'web: operations dashboard ready, p50', value: c.p50, unit: 'ms' },
            { key: 'web.dashboard.p95', label: 'web: operations dashboard ready, p95', value: c.p95, unit: 'ms' },
          ],
          detail: {
            runs,
            firstScreenMs: firstScreen,
            overviewMs: overview,
            dashboardMs: dashboard,
            firstScreenTaskMs,
            firstScreenScriptMs,
            firstScreenScripts,
            bytesTransferredLastRun: transferred,
            assetBytes,
          },
        };
      } finally {
        await browser?.close();
      }
    },
    { demo: true },
  );
}
