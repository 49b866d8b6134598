import { expect, open, saveItsmSettings, saveSimulatorConnection } from './helpers';
import { createToken, runToEnd, sendScan, test } from './engine-helpers';

// The first-run steps are checked by first-run.spec.ts, the only place the database is
// known to be empty. Here: once set up, every figure is there and links to its page.
test('once set up, the overview shows each figure with its link and no step', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  await saveSimulatorConnection(page, info);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('ol.steps li')).toHaveCount(4);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, 'overview');
  const source = `e2e-overview-${info.project.name}`;
  await sendScan(request, token, source, [`res-overview-${info.project.name}-${Date.now()}`]);
  const runId = await runToEnd(page, info);

  await open(page, '/', info);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.locator('.first-steps')).toHaveCount(0);
  await expect(page.locator('[data-figure="connection"]')).toHaveAttribute('data-saved', 'true');
  await expect(page.locator('[data-figure="connection"]')).toContainText('Test connection last passed');
  await expect(page.locator('[data-figure="last-run"] a')).toHaveAttribute('href', `/runs/${runId}`);
  await expect(page.locator('[data-figure="next-run"]')).toContainText('UTC');
  const failing = Number(/^\d+/.exec((await page.locator('[data-figure="failing-groups"]').textContent())!)![0]);
  expect(failing).toBeGreaterThanOrEqual(1);
  const open_ = page.locator('[data-figure="open-tickets"] a');
  expect(Number(await open_.textContent())).toBeGreaterThanOrEqual(1);
  await expect(page.locator(`tr[data-source="${source}"] [data-count="last-day"]`)).toHaveText(/^[1-9]\d*$/);

  // Each figure leads to its page: the open tickets to the filtered tickets list.
  await open_.click();
  await expect(page).toHaveURL(/\/tickets\?state=open&grouping=resources$/);
  await expect(page.getByLabel('State')).toHaveValue('open');
  await open(page, '/', info);
  await page.locator('[data-figure="last-run"] a').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
});
