import { test as base, type APIRequestContext, type Locator, type Page, type TestInfo } from '@playwright/test';
import { countNavigations, expect, hydrated, open, saveItsmSettings, saveSimulatorConnection, SIM } from './helpers';

// The engine's rules as an admin steers them: the preview of the next run (for the form's
// unsaved values too), the filters, and the exceptions. Each test restores the filters it
// changed, since the server is shared with the other files.

// As helpers.ts's `test`, but Run now may answer 409 while another run is under way, and
// Chromium logs every 4xx answer to a fetch as a console error.
const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        const refused = message.text().includes('status of 409');
        if (message.type() === 'error' && !refused) errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

test.describe.configure({ mode: 'serial' });

const ENDED = /^(succeeded|partial|failed|interrupted)$/;

async function createToken(page: Page, info: TestInfo, tag: string): Promise<string> {
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(`rules-${tag}-${info.project.name}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  return (await page.locator('#new-token').textContent())!.trim();
}

/** Ids unique to one test and project, so the shared server's other data cannot interfere. */
function id(info: TestInfo, tag: string, what: string): string {
  return `${what}-${tag}-${info.project.name}`;
}

async function sendScan(
  request: APIRequestContext,
  info: TestInfo,
  tag: string,
  token: string,
  findings: { control: string; resource: string; severity: string }[],
) {
  const sent = await request.post('/api/v1/scans', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      schema_version: '1',
      source: id(info, tag, 'e2e-rules'),
      scan: { id: 's1', time: new Date().toISOString() },
      findings: findings.map((f) => ({
        control: { id: f.control, title: `Title of ${f.control}` },
        resource: { id: f.resource, name: f.resource, type: 'vm' },
        status: 'fail',
        severity: f.severity,
      })),
    },
  });
  expect(sent.status(), await sent.text()).toBe(201);
}

function previewRow(page: Page, group: string): Locator {
  return page.locator(`.plan-preview tr[data-group="${group}"]`);
}

/** The Runs page with its preview: loaded once the page runs, or shown by its link. */
async function openRunsPreview(page: Page, info: TestInfo) {
  await open(page, hydrated(info) ? '/runs' : '/runs?preview=show', info);
}

/** Run now until it starts a run (another may be under way), then waits for its end. */
async function runAndWait(page: Page, info: TestInfo) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await open(page, '/runs', info);
    await page.locator('form.run-now button').click();
    const notice = page.locator('.run-notice');
    await expect(notice).toHaveText(/^Run (\d+) (started\.|is in progress; nothing was started\.)$/);
    const [, runId, answer] = /^Run (\d+) (started|is in progress)/.exec((await notice.textContent())!.trim())!;
    const row = page.locator(`table.runs tr[data-run-id="${runId}"]`);
    await expect(async () => {
      if (!hydrated(info)) await open(page, '/runs', info);
      await expect(row).toHaveAttribute('data-outcome', ENDED, { timeout: 1_000 });
    }).toPass({ timeout: 30_000, intervals: [500, 1_000] });
    if (answer === 'started') return;
  }
  throw new Error('Run now kept answering that a run is in progress');
}

/** The short descriptions of the simulator's incidents, from its `/` page. */
async function simulatorIncidents(request: APIRequestContext): Promise<string[]> {
  const page = await request.get(`${SIM.url}/`);
  expect(page.status()).toBe(200);
  const rows = (await page.text()).split('<tr>').slice(1);
  const cells = (row: string) => [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]*>/g, ''));
  return rows.map(cells).filter((c) => c.length >= 5).map((c) => c[c.length - 1]);
}

/**
 * Shows the preview of the form as it is: with JavaScript it follows every change by
 * itself; without, the Preview button posts the form and the page comes back with it.
 */
async function showPreview(page: Page, info: TestInfo) {
  if (!hydrated(info)) {
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page).toHaveURL(/\/settings\/itsm\?preview=/);
  }
  await expect(page.locator('.preview-basis')).toHaveAttribute('data-unsaved', 'true');
}

/** Every source and every severity again, for the files that run after this one. */
async function restoreFilters(page: Page, info: TestInfo) {
  await open(page, '/settings/itsm', info);
  await page.getByLabel('All sources').check();
  await page.getByLabel('Lowest severity').selectOption({ label: 'Every severity' });
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
}

test('changing the grouping in the form shows a different preview before saving', async ({ page, request }, info) => {
  test.setTimeout(90_000);
  const tag = 'whatif';
  await saveSimulatorConnection(page, info);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, tag);
  const control = id(info, tag, 'ctl');
  const [r1, r2] = [id(info, tag, 'res1'), id(info, tag, 'res2')];
  await sendScan(request, info, tag, token, [
    { control, resource: r1, severity: 'high' },
    { control, resource: r2, severity: 'low' },
  ]);

  await open(page, '/settings/itsm', info);
  await expect(page.locator('.preview-basis')).toHaveAttribute('data-unsaved', 'false');
  await expect(previewRow(page, `resource ${r1}`)).toHaveAttribute('data-action', 'open');
  await expect(previewRow(page, `resource ${r2}`)).toHaveAttribute('data-action', 'open');
  await expect(previewRow(page, `control ${control}`)).toHaveCount(0);

  const navigations = countNavigations(page);
  await page.getByLabel('By controls').check();
  await showPreview(page, info);
  if (hydrated(info)) expect(navigations(), 'the preview followed the form without a reload').toBe(0);
  await expect(previewRow(page, `control ${control}`)).toHaveAttribute('data-action', 'open');
  await expect(previewRow(page, `control ${control}`).locator('.reason')).toContainText('open: no ticket yet; 2 findings fail');
  await expect(previewRow(page, `resource ${r1}`)).toHaveCount(0);
  await expect(page.getByLabel('By controls')).toBeChecked();
  await page.screenshot({ path: `test-results/screenshots/itsm-settings-${info.project.name}.png`, fullPage: true });

  // Nothing was saved: the page opened afresh shows the saved grouping and its preview.
  await open(page, '/settings/itsm', info);
  await expect(page.getByLabel('By resources')).toBeChecked();
  await expect(previewRow(page, `resource ${r1}`)).toHaveAttribute('data-action', 'open');
});

test('filters change the preview, then the run', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  const tag = 'filters';
  await saveSimulatorConnection(page, info);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, tag);
  const control = id(info, tag, 'ctl');
  const [low, critical] = [id(info, tag, 'low'), id(info, tag, 'critical')];
  await sendScan(request, info, tag, token, [
    { control, resource: low, severity: 'low' },
    { control, resource: critical, severity: 'critical' },
  ]);
  try {
    await open(page, '/settings/itsm', info);
    await page.getByLabel('Lowest severity').selectOption({ label: 'High and above' });
    await showPreview(page, info);
    await expect(previewRow(page, `resource ${low}`)).toHaveAttribute('data-action', 'skipped');
    await expect(previewRow(page, `resource ${low}`).locator('.reason')).toHaveText(
      'skipped: severity low is below the lowest chosen on ITSM settings (High and above)',
    );
    await expect(previewRow(page, `resource ${critical}`)).toHaveAttribute('data-action', 'open');
    await page.getByRole('button', { name: 'Update' }).click();
    await expect(page.locator('.notice-saved')).toHaveText('Saved.');

    await runAndWait(page, info);
    const incidents = await simulatorIncidents(request);
    expect(incidents.filter((d) => d.includes(critical)), 'the critical finding opened a ticket').toHaveLength(1);
    expect(incidents.filter((d) => d.includes(low)), 'the low one opened nothing').toHaveLength(0);
  } finally {
    await restoreFilters(page, info);
  }
});

test('an exception skips its finding in the preview and the run, and End now brings it back', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  const tag = 'exception';
  await saveSimulatorConnection(page, info);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, tag);
  const control = id(info, tag, 'ctl');
  const resource = id(info, tag, 'res');
  await sendScan(request, info, tag, token, [{ control, resource, severity: 'high' }]);

  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const reason = `risk accepted by the e2e test (${info.project.name})`;
  await open(page, '/exceptions', info);
  await page.getByLabel('One control on one resource').check();
  await page.getByLabel('Control id').fill(control);
  await page.getByLabel('Resource id').fill(resource);
  await page.getByLabel('Accepted risk').check();
  await page.getByLabel('Reason').fill(reason);
  await page.getByLabel('Holds until (last day, UTC)').fill(until);
  await page.getByRole('button', { name: 'Add exception' }).click();
  const row = page.locator('table.exceptions tr', { hasText: reason });
  await expect(row).toHaveAttribute('data-status', 'holds');
  await expect(row).toContainText(until);
  await page.screenshot({ path: `test-results/screenshots/exceptions-${info.project.name}.png`, fullPage: true });

  await openRunsPreview(page, info);
  const skipped = previewRow(page, `resource ${resource}`);
  await expect(skipped).toHaveAttribute('data-action', 'skipped');
  await expect(skipped.locator('.reason')).toHaveText(new RegExp(`^skipped: exception by \\S+ until ${until}: ${reason.replace(/[()]/g, '\\$&')}$`));
  await runAndWait(page, info);
  expect((await simulatorIncidents(request)).filter((d) => d.includes(resource))).toHaveLength(0);

  await open(page, '/exceptions', info);
  await row.getByRole('button', { name: 'End now' }).click();
  await expect(page.locator('.notice')).toContainText('ended; its findings count again from the next run');
  await expect(row).toHaveAttribute('data-status', 'ended');
  await expect(row).toContainText('ended by');

  await openRunsPreview(page, info);
  await expect(previewRow(page, `resource ${resource}`)).toHaveAttribute('data-action', 'open');
  await runAndWait(page, info);
  expect((await simulatorIncidents(request)).filter((d) => d.includes(resource))).toHaveLength(1);
});
