import path from 'node:path';
import { expect, hydrated, open, saveItsmSettings, saveSimulatorConnection, startFreshServer } from './helpers';
import { createNamedToken, runToEnd, sendScan, test } from './engine-helpers';

/**
 * A screenshot of each page, for the README. Ordinary runs write them to the ignored
 * `end2end/test-results/screenshots/`; `UPDATE_SCREENSHOTS=1` writes them to
 * `docs/screenshots/`, which the README shows, so its images change only when they are
 * regenerated on purpose. Taken with JavaScript only (the pages look the same without).
 * `SCREENSHOTS=exceptions,preview` takes only the ones named (the others stay as they are):
 * connection, overview, runs, run, tickets, tokens, scans, exceptions, preview, itsm-settings,
 * connection-failed, audit, login, setup.
 * Every name in them is one an administrator could give (no test's tag): run it on its own
 * (`npx playwright test screenshots --project hydrated`), on the fresh database each run
 * starts with, so that no other spec's data shows.
 */
const folder =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
    : path.resolve(__dirname, '..', 'test-results', 'screenshots');

/** Whether the screenshot `name` is wanted (`SCREENSHOTS` names some; all by default). */
const wanted = (name: string) => !process.env.SCREENSHOTS || process.env.SCREENSHOTS.split(',').includes(name);

test('a screenshot of each page', async ({ page, request }, info) => {
  test.skip(!hydrated(info), 'one set of screenshots, taken with JavaScript');
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await saveSimulatorConnection(page, info);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('ol.steps li')).toHaveCount(4);
  await expect(page.locator('ol.steps li.step-passed')).toHaveCount(4);
  if (wanted('connection')) {
    // The pointer off the button, so that it shows as it rests.
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(folder, 'connection.png'), fullPage: true });
  }
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createNamedToken(page, info, 'security-scans');
  const stamp = Date.now();
  await sendScan(request, token, 'prowler-aws-123456789012', [
    `i-0a1b2c3d4e5f${stamp}`,
    `arn:aws:s3:::audit-logs-${stamp}`,
    `sg-0123456789abcdef-${stamp}`,
  ]);
  const runId = await runToEnd(page, info);
  // A token limited to one source, as the README's guide advises for each scanner.
  await createNamedToken(page, info, 'prowler-nightly', 'prowler-aws-123456789012');

  const shots: [string, string][] = [
    ['overview', '/'],
    ['runs', '/runs'],
    ['run', `/runs/${runId}`],
    ['tickets', '/tickets'],
    // Opened afresh, the tokens page lists the tokens by their first characters only.
    ['tokens', '/settings/tokens'],
    ['scans', '/scans'],
  ];
  for (const [name, address] of shots.filter(([name]) => wanted(name))) {
    await open(page, address, info);
    await expect(page.getByText('Loading…')).toHaveCount(0);
    await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
  }

  // An exception for a resource, and a later scan with it and one more: the preview then
  // has tickets left alone, a group set aside and one to open.
  const lastDay = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await open(page, '/exceptions', info);
  await page.getByLabel('A resource, for every control').check();
  await page.getByLabel('Resource id').fill(`db-legacy-${stamp}`);
  await page.getByLabel('Accepted risk').check();
  await page.getByLabel('Reason').fill('Legacy database, decommissioned with the Q3 migration');
  await page.getByLabel('Holds until (last day, UTC)').fill(lastDay);
  await page.getByRole('button', { name: 'Add exception' }).click();
  await expect(page.locator('table.exceptions tr[data-status="holds"]').first()).toBeVisible();
  if (wanted('exceptions')) {
    await page.screenshot({ path: path.join(folder, 'exceptions.png'), fullPage: true });
  }
  await sendScan(request, token, 'prowler-aws-123456789012', [
    `i-0a1b2c3d4e5f${stamp}`,
    `arn:aws:s3:::audit-logs-${stamp}`,
    `sg-0123456789abcdef-${stamp}`,
    `i-0f9e8d7c6b5a${stamp}`,
    `db-legacy-${stamp}`,
  ]);
  if (wanted('preview')) {
    await open(page, '/settings/itsm', info);
    const preview = page.locator('.plan-preview');
    await expect(preview.locator('tr[data-action="skipped"]').first()).toBeVisible();
    await preview.screenshot({ path: path.join(folder, 'preview.png') });
  }
  // The ITSM settings form as it opens (its preview, further down, is preview.png).
  if (wanted('itsm-settings')) {
    await open(page, '/settings/itsm', info);
    await expect(page.getByText('Loading…')).toHaveCount(0);
    await page.screenshot({ path: path.join(folder, 'itsm-settings.png') });
  }
  // Test connection failing, for the README's troubleshooting: a wrong client secret.
  if (wanted('connection-failed')) {
    await saveSimulatorConnection(page, info, 'not-the-client-secret');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.locator('ol.steps li.step-failed')).toHaveCount(4);
    await page.mouse.move(0, 0);
    await page.locator('section.connection-test').screenshot({ path: path.join(folder, 'connection-failed.png') });
  }
  // The audit log, last: every save, token, run and exception above is in it.
  if (wanted('audit')) {
    await open(page, '/audit', info);
    await expect(page.getByText('Loading…')).toHaveCount(0);
    await expect(page.locator('table').first()).toBeVisible();
    await page.screenshot({ path: path.join(folder, 'audit.png'), fullPage: true });
  }
});

test('a screenshot of the sign-in and setup pages', async ({ browser }, info) => {
  test.skip(!hydrated(info), 'one set of screenshots, taken with JavaScript');
  test.setTimeout(90_000);
  const signedOut = async (baseURL: string) => {
    const context = await browser.newContext({
      baseURL,
      viewport: { width: 1280, height: 800 },
      storageState: { cookies: [], origins: [] },
    });
    return { context, page: await context.newPage() };
  };
  // A browser without the project's session: signed out, as someone arriving.
  if (wanted('login')) {
    const { context, page } = await signedOut(info.project.use.baseURL!);
    await open(page, '/login', info);
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await page.screenshot({ path: path.join(folder, 'login.png'), fullPage: true });
    await context.close();
  }
  // The setup form shows only before the admin exists: on a server of its own.
  if (wanted('setup')) {
    const server = await startFreshServer(3113, 'screenshots-setup');
    try {
      const { context, page } = await signedOut(server.baseURL);
      await open(page, '/setup', info);
      await expect(page.getByRole('button', { name: 'Create the account' })).toBeVisible();
      await page.screenshot({ path: path.join(folder, 'setup.png'), fullPage: true });
      await context.close();
    } finally {
      await server.stop();
    }
  }
});
