import { test as base, type APIRequestContext, type Locator, type Page, type TestInfo } from '@playwright/test';
import { expect, hydrated, open, SIM } from './helpers';

// As helpers.ts's `test`, but for one answer: Run now answers 409 when a run is already
// under way, and Chromium logs every 4xx answer to a fetch as a console error. Any other
// error still fails the test.
const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        const refusedRunNow =
          message.text().includes('status of 409') && message.location().url.includes('/api/run_now');
        if (message.type() === 'error' && !refusedRunNow) errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

test.describe.configure({ mode: 'serial' });

/** What Run now may answer: a run started, or the one under way. Nothing else. */
const RUN_NOW_ANSWER = /^Run (\d+) (started\.|is in progress; nothing was started\.)$/;
/** The outcomes of a run that has ended. */
const ENDED = /^(succeeded|partial|failed|interrupted)$/;

async function saveConnection(page: Page, info: TestInfo) {
  await open(page, '/settings/connection', info);
  await page.getByLabel('ServiceNow URL').fill(SIM.url);
  await page.getByLabel('Client ID').fill(SIM.clientId);
  await page.getByLabel('Client secret').fill(SIM.clientSecret);
  await page.getByLabel('Group SYS ID').fill(SIM.group);
  await page.getByLabel('User SYS ID').fill(SIM.user);
  await page.getByLabel('User ID', { exact: true }).fill(SIM.userId);
  await page.getByLabel('Password').fill(SIM.password);
  await page.getByLabel('Status before a duplicate ticket is opened').selectOption({ label: 'Resolved' });
  await page.getByLabel('Days before a new ticket is opened').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
}

/** One ticket per failing resource (another spec may have left By controls). */
async function groupByResources(page: Page, info: TestInfo) {
  await open(page, '/settings/itsm', info);
  await page.getByLabel('By resources').check();
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
}

async function createToken(page: Page, info: TestInfo): Promise<string> {
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(`runs-${info.project.name}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  return (await page.locator('#new-token').textContent())!.trim();
}

function resourceId(info: TestInfo, n: number): string {
  return `res-${info.project.name}-${n}`;
}

async function sendScan(request: APIRequestContext, info: TestInfo, token: string) {
  const finding = (control: string, title: string, n: number, severity: string) => ({
    control: { id: control, title },
    resource: { id: resourceId(info, n), name: `r${n}`, type: 'vm' },
    status: 'fail',
    severity,
  });
  const sent = await request.post('/api/v1/scans', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      schema_version: '1',
      source: `e2e-${info.project.name}`,
      scan: { id: 's1', time: new Date().toISOString() },
      findings: [finding('ctl-a', 'Control A', 1, 'high'), finding('ctl-b', 'Control B', 2, 'low')],
    },
  });
  expect(sent.status(), await sent.text()).toBe(201);
}

function runNowButton(page: Page): Locator {
  return page.locator('form.run-now button');
}

/**
 * Clicks Run now (`clicks` times in a row) and returns the run its answer names, after
 * checking the answer is one of the two allowed. With JavaScript the page stays and shows
 * the answer; without, the post is redirected back to /runs with it.
 */
async function runNow(page: Page, info: TestInfo, clicks = 1): Promise<{ id: number; started: boolean }> {
  const before = page.url();
  const answered = hydrated(info) ? page.waitForResponse((r) => r.url().includes('/api/run_now')) : null;
  if (clicks === 2) {
    await runNowButton(page).dblclick();
  } else {
    await runNowButton(page).click();
  }
  if (answered) {
    await answered;
    await expect(runNowButton(page)).toBeEnabled();
  } else {
    await expect(page).not.toHaveURL(before);
    await expect(page).toHaveURL(/\/runs\?flash=/);
    await page.waitForLoadState('load');
  }
  const notice = page.locator('.run-notice');
  await expect(notice).toHaveCount(1);
  await expect(notice).toHaveText(RUN_NOW_ANSWER);
  await expect(page.getByText('This page could not load its data.')).toHaveCount(0);
  const [, id, answer] = RUN_NOW_ANSWER.exec((await notice.textContent())!.trim())!;
  return { id: Number(id), started: answer === 'started.' };
}

/**
 * Run now until it starts a run: the scheduler starts one as soon as a connection is first
 * saved (by another spec, maybe still under way), and Run now then answers "in progress".
 */
async function startRun(page: Page, info: TestInfo): Promise<number> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { id, started } = await runNow(page, info);
    if (started) return id;
    await waitForEnd(page, info, id);
  }
  throw new Error('Run now kept answering that a run is in progress');
}

function runRow(page: Page, id: number): Locator {
  return page.locator(`table.runs tr[data-run-id="${id}"]`);
}

/**
 * Waits for run `id` to end. With JavaScript the page follows it by itself; without, the
 * page is loaded again until it shows the end.
 */
async function waitForEnd(page: Page, info: TestInfo, id: number) {
  const row = runRow(page, id);
  if (hydrated(info)) {
    await expect(row).toHaveAttribute('data-outcome', ENDED, { timeout: 30_000 });
  } else {
    await expect(async () => {
      await open(page, '/runs', info);
      await expect(row).toHaveAttribute('data-outcome', ENDED, { timeout: 1_000 });
    }).toPass({ timeout: 30_000, intervals: [500, 1_000] });
  }
}

/** The short descriptions of the simulator's incidents, from its `/` page. */
async function simulatorIncidents(request: APIRequestContext): Promise<string[]> {
  const page = await request.get(`${SIM.url}/`);
  expect(page.status()).toBe(200);
  // One row per incident: number, state, opened, correlation id, short description (last).
  const rows = (await page.text()).split('<tr>').slice(1);
  const cells = (row: string) => [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]*>/g, ''));
  return rows.map(cells).filter((c) => c.length >= 5).map((c) => c[c.length - 1]);
}

test('Run now opens one incident per failing resource, and the page shows the run end', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  await saveConnection(page, info);
  await groupByResources(page, info);
  const token = await createToken(page, info);
  await sendScan(request, info, token);

  await open(page, '/runs', info);
  await expect(page.locator('.engine-state')).toHaveAttribute('data-connected', 'true');
  await expect(page.locator('.engine-state')).toContainText('Next scheduled run:');
  // The instance answers the run's first request 3 s late, so the run is still under way
  // when the page first lists it: with JavaScript the page must follow it to its end itself.
  const slowed = await request.post(`${SIM.url}/_sim/faults`, { data: { kind: 'delay', millis: 3_000 } });
  expect(slowed.ok(), await slowed.text()).toBe(true);
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  const id = await startRun(page, info);
  await waitForEnd(page, info, id);
  if (hydrated(info)) {
    expect(navigations, 'the page followed the run without loading again').toBe(0);
  }

  const row = runRow(page, id);
  await expect(row).toHaveAttribute('data-outcome', 'succeeded');
  await expect(row.locator('[data-count="opened"]')).toHaveText('2');
  await expect(row.locator('[data-count="failed"]')).toHaveText('0');
  // The newest run is the one just started.
  await expect(page.locator('table.runs tr[data-run-id]').first()).toHaveAttribute('data-run-id', String(id));

  const incidents = await simulatorIncidents(request);
  for (const n of [1, 2]) {
    expect(incidents.filter((d) => d.includes(resourceId(info, n))), `incidents of ${resourceId(info, n)}`).toHaveLength(1);
  }
});

test('Run now clicked twice quickly answers only "started" or "in progress", and opens nothing twice', async ({ page, request }, info) => {
  test.setTimeout(90_000);
  await open(page, '/runs', info);
  const first = await runNow(page, info, 2);
  const second = await runNow(page, info);
  await waitForEnd(page, info, Math.max(first.id, second.id));

  // Every run has ended, and together they opened the two incidents once.
  await open(page, '/runs', info);
  await expect(page.locator('table.runs tr[data-outcome="running"]')).toHaveCount(0);
  const opened = await page.locator('table.runs [data-count="opened"]').allTextContents();
  expect(opened.reduce((sum, n) => sum + Number(n), 0)).toBe(2);
  const incidents = await simulatorIncidents(request);
  for (const n of [1, 2]) {
    expect(incidents.filter((d) => d.includes(resourceId(info, n)))).toHaveLength(1);
  }
});
