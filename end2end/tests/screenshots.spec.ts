import path from 'node:path';
import { expect, hydrated, open, saveItsmSettings, saveSimulatorConnection } from './helpers';
import { createToken, runToEnd, sendScan, test } from './engine-helpers';

/**
 * A screenshot of each page, for the README. Ordinary runs write them to the ignored
 * `end2end/test-results/screenshots/`; `UPDATE_SCREENSHOTS=1` writes them to
 * `docs/screenshots/`, which the README shows, so its images change only when they are
 * regenerated on purpose. Taken with JavaScript only (the pages look the same without).
 */
const folder =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
    : path.resolve(__dirname, '..', 'test-results', 'screenshots');

test('a screenshot of each page', async ({ page, request }, info) => {
  test.skip(!hydrated(info), 'one set of screenshots, taken with JavaScript');
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await saveSimulatorConnection(page, info);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('ol.steps li')).toHaveCount(4);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, 'screenshots');
  const stamp = Date.now();
  await sendScan(request, token, 'prowler-aws-123456789012', [
    `i-0a1b2c3d4e5f${stamp}`,
    `arn:aws:s3:::audit-logs-${stamp}`,
    `sg-0123456789abcdef-${stamp}`,
  ]);
  const runId = await runToEnd(page, info);

  const shots: [string, string][] = [
    ['overview', '/'],
    ['runs', '/runs'],
    ['run', `/runs/${runId}`],
    ['tickets', '/tickets'],
  ];
  for (const [name, address] of shots) {
    await open(page, address, info);
    await expect(page.getByText('Loading…')).toHaveCount(0);
    await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
  }
});
