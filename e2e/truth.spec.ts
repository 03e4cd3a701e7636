// Truth on the ring: a leader that cannot commit is drawn as stale and the narration says why; a crashed
// node's entries are drawn as commit unknown, not as uncommitted (SPEC §7: data-stale, data-commit-known).
import { expect, test } from './fixtures.ts';
import { chooseNode, committedEverywhere, lastIndex, leaderId, newLeader, node, put, SETTLE_MS, term } from './helpers.ts';

const ALL = [1, 2, 3, 4, 5];
// Sharp screenshots (/tmp/truth-*.png) to check by eye that the stale leader reads from the back of a room.
test.use({ deviceScaleFactor: 2 });

test('a leader partitioned into a minority is drawn stale, and "Right now" says it cannot commit and why', async ({ page }) => {
  await page.goto('/?seed=6&speed=1');
  const old = await leaderId(page);
  const oldTerm = await term(page, old);
  await expect(node(page, old)).toHaveAttribute('data-stale', 'false');
  await expect(page.getByTestId('standing-note')).toHaveCount(0);

  await chooseNode(page, old);
  await page.getByRole('button', { name: 'Partition', exact: true }).click();
  // Alone, it reaches 1 of 5 voters at once: stale before anyone else has noticed.
  await expect(node(page, old)).toHaveAttribute('data-stale', 'true');
  const next = await newLeader(page, old, oldTerm);
  const nextTerm = await term(page, next);
  // Both are in the leader role (data-role as each believes); only the old one is stale, for both reasons.
  await expect(node(page, old)).toHaveAttribute('data-role', 'leader');
  await expect(node(page, old)).toHaveAttribute('data-stale', 'true');
  await expect(node(page, old)).toHaveAttribute('data-stale-reasons', 'term cut-off');
  await expect(node(page, old)).toHaveAttribute('aria-label', `S${old}, leader, term ${oldTerm}, stale: cannot commit`);
  await expect(node(page, next)).toHaveAttribute('data-stale', 'false');
  await expect(node(page, next)).toHaveAttribute('aria-label', `S${next}, leader, term ${nextTerm}`);

  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  // In view whatever the details show: choosing the node opened the Inspector.
  await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
  const notes = page.getByTestId('standing-notes');
  await expect(notes).toBeInViewport();
  await expect(notes).toHaveAttribute('role', 'status');
  await expect(notes).toContainText('Right now');
  const note = notes.getByTestId('standing-note');
  await expect(note).toHaveCount(1);
  await expect(note).toHaveAttribute('data-node', String(old));
  await expect(note).toHaveText(
    new RegExp(
      `^S${old} still believes it leads term ${oldTerm}, but S\\d leads term \\d+\\. S${old} reaches only 1 of 5 voters \\(itself\\) and needs 3 to commit anything \\(§5\\.3\\); it steps down when it hears of term \\d+ \\(§5\\.1\\)\\.$`,
    ),
  );
  await page.screenshot({ path: '/tmp/truth-partition.png' });
  await page.locator('svg.cluster-ring').screenshot({ path: '/tmp/truth-ring.png' });

  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.getByRole('button', { name: 'Heal', exact: true }).click();
  await expect(node(page, old)).toHaveAttribute('data-role', 'follower', { timeout: SETTLE_MS });
  await expect(node(page, old)).not.toHaveAttribute('data-stale', /.*/);
  await expect(page.getByTestId('standing-note')).toHaveCount(0);
});

test("a crashed node's entries are commit unknown while it is down, and committed again once it restarts", async ({ page }) => {
  await page.goto('/?seed=4&speed=1');
  const leader = await leaderId(page);
  await put(page, 'x', '1');
  const index = await lastIndex(page, leader);
  await committedEverywhere(page, ALL, index);
  const follower = ALL.find((id) => id !== leader)!;
  const entry = page.getByTestId(`entry-${follower}-${index}`);
  await expect(entry).toHaveAttribute('data-commit-known', 'true');

  await chooseNode(page, follower);
  await page.getByRole('button', { name: 'Crash', exact: true }).click();
  await expect(node(page, follower)).toHaveAttribute('data-status', 'down');
  await expect(entry).toHaveAttribute('data-commit-known', 'false');
  await expect(entry).toHaveAttribute('data-committed', 'false');
  await expect(entry).toHaveAttribute('aria-label', new RegExp(`commit index unknown while S${follower} is down`));
  await expect(page.getByTestId(`commit-unknown-${follower}`)).toHaveText('C?');
  // The other nodes still know.
  await expect(page.getByTestId(`entry-${leader}-${index}`)).toHaveAttribute('data-committed', 'true');
  await expect(page.getByTestId(`entry-${leader}-${index}`)).toHaveAttribute('data-commit-known', 'true');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.screenshot({ path: '/tmp/truth-crashed.png' });
  await page.locator('.log-grid-panel').screenshot({ path: '/tmp/truth-crashed-grid.png' });
  await page.getByRole('button', { name: 'Resume', exact: true }).click();

  await chooseNode(page, follower);
  await page.getByRole('button', { name: 'Restart', exact: true }).click();
  await expect(node(page, follower)).toHaveAttribute('data-status', 'up');
  await expect(entry).toHaveAttribute('data-commit-known', 'true');
  await expect(entry).toHaveAttribute('data-committed', 'true', { timeout: SETTLE_MS });
  await expect(page.getByTestId(`commit-unknown-${follower}`)).toHaveCount(0);
});
