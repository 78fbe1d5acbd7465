import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { operatorViews } from '../src/temporal/operator-views.js';
import { waitUntil } from '../src/util/wait-until.js';
import { chromiumArgs, ensureChromium } from './support/chromium.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const artifactsDir = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
/** Each UI step waits at most this long for what it looks for. */
const uiTimeoutMs = 20_000;

describe('operators finding an execution in the Temporal Web UI', () => {
  let h: Harness;
  let browser: Browser;
  const started: string[] = [];

  beforeAll(async () => {
    const [executablePath, harness] = await Promise.all([
      ensureChromium(),
      startHarness({ agents: { seek: { capacity: 2 }, other: { capacity: 2 } } }),
    ]);
    h = harness;
    browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    // Whatever a failed test left running; a no-op for executions already stopped.
    for (const id of started) await h?.client.stopExecution(id, 'temporal-ui test cleanup').catch(() => undefined);
    await h?.close();
  });

  /** Waits until Temporal's visibility store (which the UI reads) lists this workflow under the query. */
  async function waitForVisibility(query: string, workflowId: string): Promise<void> {
    await waitUntil(
      async () => {
        for await (const wf of h.temporal.workflow.list({ query })) if (wf.workflowId === workflowId) return true;
        return false;
      },
      { what: `visibility query ${query} to list ${workflowId}`, timeoutMs: uiTimeoutMs, intervalMs: 200 },
    );
  }

  /** The rendered text of the markdown iframe under the user-metadata heading `heading` (Summary or Details). */
  function metadataFrame(page: Page, heading: 'Summary' | 'Details'): FrameLocator {
    return page
      .getByTestId('user-metadata-summary-heading')
      .filter({ hasText: new RegExp(`^${heading}$`) })
      .locator('xpath=../following-sibling::section[1]//iframe')
      .contentFrame();
  }

  it('lists only the agent’s running execution under the printed "running on" view and shows its summary and details', async () => {
    const agent = h.agent('seek');
    const otherAgent = h.agent('other');
    const { executionId } = await h.client.startExecution({ agent, prompt: 'hang' });
    started.push(executionId);
    const { executionId: otherId } = await h.client.startExecution({ agent: otherAgent, prompt: 'hang' });
    started.push(otherId);
    await waitForAgentProcess(h, 'seek', executionId);
    await waitForAgentProcess(h, 'other', otherId);

    const uiUrl = inject('temporalUiUrl');
    expect(uiUrl, 'the test stack runs the Temporal Web UI').not.toBe('');
    const namespace = h.namespace;
    // The link `npm start` and `lifeline ui` print for this agent.
    const view = operatorViews({ uiUrl, namespace, agents: [agent, otherAgent], now: new Date() }).find(
      (v) => v.title === `running on ${agent}`,
    )!;
    // Both are indexed, so the other agent's absence from the list below is the query's doing.
    await waitForVisibility(view.query, executionId);
    await waitForVisibility(`LifelineAgent="${otherAgent}"`, otherId);

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    mkdirSync(artifactsDir, { recursive: true });
    const screenshotPath = `${artifactsDir}temporal-ui-${stamp}.png`;

    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(uiTimeoutMs);
    try {
      // The UI's workflow list takes its visibility query from the `query` search parameter.
      await page.goto(view.url);
      const rows = page.getByTestId('workflows-summary-configurable-table-row');
      const row = rows.filter({ has: page.getByRole('link', { name: executionId, exact: true }) });
      await row.waitFor();

      const headers = (await page.locator('table thead tr').first().locator('th').allInnerTexts()).map((t) => t.trim());
      const statusColumn = headers.indexOf('Status');
      const idColumn = headers.indexOf('Workflow ID');
      expect(statusColumn, `a Status column among ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(0);
      expect(idColumn, `a Workflow ID column among ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(0);
      // UI 2.54 writes statuses in capitals (RUNNING), older ones as Running.
      expect((await row.locator('td').nth(statusColumn).innerText()).trim()).toMatch(/^running$/i);

      const listed = (
        await rows.evaluateAll((trs, column) => trs.map((tr) => tr.children[column]?.textContent?.trim() ?? ''), idColumn)
      ).sort();
      expect(listed).toEqual([executionId]);
      expect(listed).not.toContain(otherId);
      expect(await page.getByRole('link', { name: otherId }).count()).toBe(0);
      await page.screenshot({ path: `${artifactsDir}temporal-ui-${stamp}-list.png`, fullPage: true });

      await row.getByRole('link', { name: executionId, exact: true }).click();
      await page.waitForURL(new RegExp(`/namespaces/${namespace}/workflows/${executionId}/[^/]+/`));
      await page.getByRole('heading', { name: executionId }).waitFor();
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      await page.waitForURL(/\/user-metadata$/);

      // The UI renders the static summary and details as markdown, each in its own iframe.
      await metadataFrame(page, 'Summary').getByText(`${agent}: hang`, { exact: true }).waitFor();
      const details = metadataFrame(page, 'Details');
      await details.locator('strong', { hasText: /^agent$/ }).waitFor();
      await details.getByText(`agent ${agent}`).waitFor();
      await details.getByText('prompt hang').waitFor();
      // The header still shows the workflow as running.
      await page
        .locator('header')
        .getByText(/^running$/i)
        .first()
        .waitFor();
      await page.screenshot({ path: screenshotPath, fullPage: true });
    } catch (err) {
      await page.screenshot({ path: `${artifactsDir}temporal-ui-${stamp}-failure.png`, fullPage: true }).catch(() => undefined);
      throw err;
    } finally {
      await page.close();
    }
    console.log(`Temporal UI screenshot: ${screenshotPath}`);

    await h.client.stopExecution(executionId, 'temporal-ui test done');
    await h.client.stopExecution(otherId, 'temporal-ui test done');
    await waitForRowStatus(h.executions, executionId, 'cancelled');
    await waitForRowStatus(h.executions, otherId, 'cancelled');
  });
});
