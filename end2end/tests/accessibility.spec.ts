import { test as base } from '@playwright/test';
import { expectAccessible } from './a11y-helpers';
import { createToken, runToEnd, sendScan, test } from './engine-helpers';
import { expect, open, saveSimulatorConnection } from './helpers';

// Every page passes axe-core with no serious or critical violation, with and without
// JavaScript (the project decides). The setup page is checked by first-run.spec.ts: it
// only shows before the admin exists.

test('the signed-out pages: sign-in, and setup once the admin exists', async ({ browser, baseURL }, info) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: info.project.use.javaScriptEnabled });
  const page = await context.newPage();
  await open(page, '/login', info);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expectAccessible(page, info);

  // Once the admin exists, /setup says so.
  await open(page, '/setup', info);
  await expectAccessible(page, info);

  await context.close();
});

test('the signed-in pages', async ({ page, request }, info) => {
  test.slow();
  const token = await createToken(page, info, 'a11y');
  const source = `e2e-a11y-${info.project.name}`;
  await sendScan(request, token, source, [`res-a11y-${info.project.name}`]);
  await saveSimulatorConnection(page, info);
  const runId = await runToEnd(page, info);

  for (const path of [
    '/',
    '/settings/connection',
    '/settings/itsm',
    '/settings/tokens',
    '/scans',
    '/runs',
    `/runs/${runId}`,
    '/tickets',
    '/exceptions',
    '/audit',
  ]) {
    await open(page, path, info);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expectAccessible(page, info);
  }

  // A scan's own page, reached from the list as a user would.
  await open(page, '/scans', info);
  await page.getByRole('row').filter({ hasText: `${source} (latest)` }).getByRole('link').first().click();
  await expect(page).toHaveURL(/\/scans\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(page, info);
});

// Chromium logs the 404 status of the page itself as a console error: this test alone does
// without the helpers' console check.
base('the 404 page', async ({ page }, info) => {
  await open(page, '/no-such-page', info);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(page, info);
});
