import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import InterruptedPushes from './InterruptedPushes.svelte';
import { setChannelFactory, setInvoke, type InterruptedPush, type PushEvent } from './api';
import { fakeInvoke } from './test-fixtures';

afterEach(() => {
  setInvoke();
  setChannelFactory();
});

const cut: InterruptedPush = {
  batchId: 'b1',
  startedAt: Date.UTC(2026, 11, 3, 9),
  routers: 4,
  succeeded: 1,
  summary: 'interrupted: 1 of 4 routers succeeded, 1 were mid-push',
  templateStart: '/system identity set name={{ name: string }}',
  dryRun: false,
};

describe('InterruptedPushes', () => {
  it('offers a push cut short, resumes it with live progress and says how it ended', async () => {
    setChannelFactory((onEvent) => ({ send: onEvent }));
    let finish: (v: unknown) => void = () => {};
    const calls = fakeInvoke({
      interrupted_pushes: () => [cut],
      resume_push: () => new Promise((resolve) => (finish = resolve)),
    });
    render(InterruptedPushes, { props: { onerror: vi.fn() } });
    await vi.waitFor(() =>
      expect(screen.getByTestId('interrupted-push').textContent?.replace(/\s+/g, ' ')).toContain('1 of 4 done when it stopped'),
    );
    await fireEvent.click(screen.getByTestId('resume-push'));
    expect(calls.map((c) => c[0])).toContain('resume_push');
    expect(calls.find((c) => c[0] === 'resume_push')?.[1]).toMatchObject({ batchId: 'b1' });
    const channel = calls.find((c) => c[0] === 'resume_push')?.[1]?.onEvent as { send: (e: PushEvent) => void };
    channel.send({ event: 'router', result: {} as never });
    await vi.waitFor(() => expect(screen.getByTestId('interrupted-progress').textContent).toContain('2 of 4'));
    finish({ batchId: 'b1', routers: 4, succeeded: 3, failed: 0, skipped: 0, alreadyDone: 1, seconds: 2, stopped: null, results: [] });
    await vi.waitFor(() => expect(screen.getByTestId('resumed-push').textContent?.replace(/\s+/g, ' ')).toContain('3 routers pushed, 1 already done before, 0 failed'));
    expect(screen.queryByTestId('interrupted-push')).toBeNull();
  });

  it('can be put off without resuming', async () => {
    const calls = fakeInvoke({ interrupted_pushes: () => [cut] });
    render(InterruptedPushes, { props: { onerror: vi.fn() } });
    await vi.waitFor(() => screen.getByTestId('dismiss-push'));
    await fireEvent.click(screen.getByTestId('dismiss-push'));
    expect(screen.queryByTestId('interrupted-push')).toBeNull();
    expect(calls.map((c) => c[0])).not.toContain('resume_push');
  });
});
