import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';
import { hydrated } from './helpers';

/** The impacts that fail a page: axe's "serious" and "critical" (WCAG 2.x A and AA rules). */
const BLOCKING = new Set(['serious', 'critical']);

/**
 * Runs axe-core on the page and fails with one line per serious or critical violation,
 * naming the rule and the elements, so the message says what to fix. axe is a script run
 * in the page: without JavaScript it checks the same address in a copy of the browser
 * (same session) that runs no script of the site's, so the page is the one served.
 */
export async function expectAccessible(page: Page, info: TestInfo) {
  if (hydrated(info)) {
    await check(page, page.url());
    return;
  }
  const browser = page.context().browser()!;
  const context = await browser.newContext({
    javaScriptEnabled: true,
    storageState: await page.context().storageState(),
  });
  await context.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
  const copy = await context.newPage();
  await copy.goto(page.url());
  await check(copy, page.url());
  await context.close();
}

async function check(page: Page, url: string) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const blocking = results.violations
    .filter((violation) => BLOCKING.has(violation.impact ?? ''))
    .map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} — ` +
        violation.nodes.map((node) => node.target.join(' ')).join(', '),
    );
  expect(blocking, `axe-core on ${url}`).toEqual([]);
}
