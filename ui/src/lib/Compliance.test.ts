import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Backups from './Backups.svelte';
import Compliance from './Compliance.svelte';
import {
  setInvoke,
  type ComplianceReport,
  type ComplianceRule,
  type RouterBackupStatus,
  type RuleInput,
} from './api';
import { fakeInvoke, type Handler } from './test-fixtures';

afterEach(() => setInvoke());

function rule(id: string, name: string, over: Partial<ComplianceRule> = {}): ComplianceRule {
  return {
    id,
    name,
    scope: { kind: 'all' },
    check: { kind: 'mustContain', text: '/ip service set telnet disabled=yes' },
    enabled: true,
    updatedAt: 1,
    ...over,
  };
}

const SITES = [{ id: 's1', name: 'Head office' }];

const RULES: ComplianceRule[] = [
  rule('r1', 'telnet off'),
  rule('r2', 'no open DNS', {
    scope: { kind: 'site', siteId: 's1' },
    check: { kind: 'mustNotContain', text: 'allow-remote-requests=yes' },
  }),
  rule('r3', 'API from the office', {
    scope: { kind: 'tag', tag: 'core' },
    check: { kind: 'propertyEquals', path: '/ip service', item: 'api', property: 'address', value: '10.0.0.0/8' },
  }),
  rule('r4', 'DNS cache default', {
    check: { kind: 'propertyEquals', path: '/ip dns', item: '', property: 'cache-size', value: '' },
    enabled: false,
  }),
];

const REPORT: ComplianceReport = {
  routers: [
    {
      deviceId: 'd1',
      name: 'edge-1',
      versionId: 'v1',
      outcomes: [
        { ruleId: 'r1', rule: 'telnet off', passed: true, detail: 'line 3: /ip service set telnet disabled=yes' },
        {
          ruleId: 'r3',
          rule: 'API from the office',
          passed: false,
          detail: 'line 4: /ip service api address is "0.0.0.0/0", the rule wants "10.0.0.0/8"',
        },
      ],
    },
    { deviceId: 'd2', name: 'edge-2', versionId: null, outcomes: [] },
    {
      deviceId: 'd3',
      name: 'edge-3',
      versionId: 'v3',
      outcomes: [{ ruleId: 'r1', rule: 'telnet off', passed: false, detail: 'no line holds "/ip service set telnet disabled=yes"' }],
    },
  ],
  rules: [
    { ruleId: 'r1', name: 'telnet off', passed: 1, failed: 1, unchecked: 1 },
    { ruleId: 'r2', name: 'no open DNS', passed: 4, failed: 0, unchecked: 0 },
    { ruleId: 'r3', name: 'API from the office', passed: 0, failed: 1, unchecked: 2 },
  ],
};

/** The rules in `stored` (a save adds or replaces one), the sites and the report; the rest by `handlers`. */
function complianceInvoke(stored: ComplianceRule[], handlers: Record<string, Handler> = {}) {
  return fakeInvoke({
    compliance_rules: () => stored,
    list_sites: () => SITES,
    config_check: () => REPORT,
    save_compliance_rule: (a) => {
      const input = a?.rule as RuleInput;
      const saved = { ...input, id: input.id ?? `new-${stored.length}`, updatedAt: 2 };
      const at = stored.findIndex((r) => r.id === saved.id);
      if (at >= 0) stored[at] = saved;
      else stored.push(saved);
      return saved;
    },
    ...handlers,
  });
}

const row = (name: string) => screen.getAllByTestId('rule-row').find((r) => r.dataset.ruleName === name)!;
const text = (el: HTMLElement) => (el.textContent ?? '').replace(/\s+/g, ' ');
const count = (calls: ReturnType<typeof fakeInvoke>, cmd: string) => calls.filter(([c]) => c === cmd).length;

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

async function choose(testid: string, value: string) {
  await fireEvent.change(screen.getByTestId(testid), { target: { value } });
}

describe('Compliance', () => {
  it('lists each rule in words: whom it is for, what it checks, and how the fleet stands', async () => {
    complianceInvoke([...RULES]);
    render(Compliance, { props: { onerror: vi.fn(), onopen: vi.fn() } });
    await vi.waitFor(() => expect(text(row('telnet off'))).toContain('1 passed · 1 failed · 1 without a backup to check'));
    expect(screen.getAllByTestId('rule-row')).toHaveLength(4);

    const telnet = text(row('telnet off'));
    expect(telnet).toContain('every router');
    expect(telnet).toContain('must contain “/ip service set telnet disabled=yes”');

    const dns = text(row('no open DNS'));
    expect(dns).toContain('site Head office');
    expect(dns).toContain('must not contain “allow-remote-requests=yes”');
    expect(dns).not.toContain('must contain');
    expect(dns).toContain('4 passed · 0 failed · 0 without a backup to check');

    const api = text(row('API from the office'));
    expect(api).toContain('tag core');
    expect(api).toContain('/ip service api address must equal “10.0.0.0/8”');
    expect(api).toContain('0 passed · 1 failed · 2 without a backup to check');

    const off = text(row('DNS cache default'));
    expect(off).toContain('/ip dns cache-size must be at its default');
    expect(off).toContain('off: not checked');
    expect(row('DNS cache default').querySelector('[data-testid="rule-toggle"]')!.textContent).toBe('Off');
    expect(row('telnet off').querySelector('[data-testid="rule-toggle"]')!.getAttribute('aria-pressed')).toBe('true');
  });

  it('adds a property-equals rule for a tag with exactly the fields written, then reloads rules and report', async () => {
    const stored = [...RULES];
    const calls = complianceInvoke(stored);
    const onerror = vi.fn();
    const onchange = vi.fn();
    render(Compliance, { props: { onerror, onopen: vi.fn(), onchange } });
    await vi.waitFor(() => expect(screen.getAllByTestId('rule-row')).toHaveLength(4));
    const checks = count(calls, 'config_check');

    await fireEvent.click(screen.getByTestId('rule-add'));
    await type('rule-name', 'Winbox from the office');
    await choose('rule-scope', 'tag');
    await type('rule-tag', 'core');
    await choose('rule-kind', 'propertyEquals');
    expect(screen.queryByTestId('rule-text')).toBeNull();
    await type('rule-path', '/ip service');
    await type('rule-item', 'winbox');
    await type('rule-property', 'address');
    await type('rule-value', '10.0.0.0/8');
    await fireEvent.click(screen.getByTestId('rule-save'));

    await vi.waitFor(() => expect(screen.getAllByTestId('rule-row')).toHaveLength(5));
    const sent: RuleInput = {
      id: null,
      name: 'Winbox from the office',
      scope: { kind: 'tag', tag: 'core' },
      check: { kind: 'propertyEquals', path: '/ip service', item: 'winbox', property: 'address', value: '10.0.0.0/8' },
      enabled: true,
    };
    expect(calls.filter(([c]) => c === 'save_compliance_rule')).toEqual([['save_compliance_rule', { rule: sent }]]);
    expect(text(row('Winbox from the office'))).toContain('/ip service winbox address must equal “10.0.0.0/8”');
    expect(count(calls, 'config_check')).toBe(checks + 1);
    expect(onchange).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('rule-name')).toBeNull();
    expect(onerror).not.toHaveBeenCalled();
  });

  it('switches a rule off by saving it again, same id, with enabled false', async () => {
    const stored = [...RULES];
    const calls = complianceInvoke(stored);
    const onchange = vi.fn();
    render(Compliance, { props: { onerror: vi.fn(), onopen: vi.fn(), onchange } });
    await vi.waitFor(() => expect(screen.getAllByTestId('rule-row')).toHaveLength(4));
    await fireEvent.click(row('API from the office').querySelector('[data-testid="rule-toggle"]')!);
    await vi.waitFor(() =>
      expect(row('API from the office').querySelector('[data-testid="rule-toggle"]')!.textContent).toBe('Off'),
    );
    expect(calls).toContainEqual([
      'save_compliance_rule',
      {
        rule: {
          id: 'r3',
          name: 'API from the office',
          scope: { kind: 'tag', tag: 'core' },
          check: { kind: 'propertyEquals', path: '/ip service', item: 'api', property: 'address', value: '10.0.0.0/8' },
          enabled: false,
        },
      },
    ]);
    expect(text(row('API from the office'))).toContain('off: not checked');
    expect(stored).toHaveLength(4);
    expect(onchange).toHaveBeenCalledTimes(1);
  });

  it('lists each broken rule with its router and deciding line, and routers without a backup as not checked', async () => {
    complianceInvoke([...RULES]);
    const onopen = vi.fn();
    render(Compliance, { props: { onerror: vi.fn(), onopen } });
    await vi.waitFor(() => expect(screen.getAllByTestId('compliance-failure')).toHaveLength(2));
    const failures = screen.getAllByTestId('compliance-failure');
    expect(failures.map((f) => [f.dataset.router, f.dataset.rule])).toEqual([
      ['edge-1', 'API from the office'],
      ['edge-3', 'telnet off'],
    ]);
    expect(text(failures[0])).toContain('edge-1');
    expect(text(failures[0])).toContain('API from the office');
    expect(text(failures[0])).toContain('line 4: /ip service api address is "0.0.0.0/0", the rule wants "10.0.0.0/8"');
    expect(text(failures[1])).toContain('no line holds "/ip service set telnet disabled=yes"');
    // A passed outcome is no failure.
    expect(text(screen.getByTestId('compliance-failures'))).not.toContain('line 3:');

    const unchecked = screen.getAllByTestId('compliance-unchecked');
    expect(unchecked.map((u) => u.dataset.router)).toEqual(['edge-2']);
    expect(text(unchecked[0])).toContain('edge-2 not checked: no backup yet');

    await fireEvent.click(screen.getByText('edge-3'));
    expect(onopen).toHaveBeenCalledWith('d3');
  });

  it('re-runs the check on "Check now"', async () => {
    let report: ComplianceReport = { routers: [], rules: [{ ruleId: 'r1', name: 'telnet off', passed: 3, failed: 0, unchecked: 0 }] };
    const calls = complianceInvoke([RULES[0]], { config_check: () => report });
    render(Compliance, { props: { onerror: vi.fn(), onopen: vi.fn() } });
    await vi.waitFor(() => expect(text(row('telnet off'))).toContain('3 passed · 0 failed'));
    expect(screen.queryByTestId('compliance-failure')).toBeNull();
    report = REPORT;
    await fireEvent.click(screen.getByTestId('compliance-check'));
    await vi.waitFor(() => expect(text(row('telnet off'))).toContain('1 passed · 1 failed'));
    expect(screen.getAllByTestId('compliance-failure')).toHaveLength(2);
    expect(count(calls, 'config_check')).toBe(2);
  });

  it('hands a refused save to onerror and keeps what was written', async () => {
    const refused = { kind: 'invalid_input', message: 'enter the text the configuration must (or must not) hold' };
    const calls = complianceInvoke([...RULES], {
      save_compliance_rule: () => {
        throw refused;
      },
    });
    const onerror = vi.fn();
    const onchange = vi.fn();
    render(Compliance, { props: { onerror, onopen: vi.fn(), onchange } });
    await vi.waitFor(() => expect(screen.getAllByTestId('rule-row')).toHaveLength(4));
    await fireEvent.click(screen.getByTestId('rule-add'));
    await type('rule-name', 'no telnet at the office');
    await choose('rule-scope', 'site:s1');
    await choose('rule-kind', 'mustNotContain');
    await type('rule-text', '   ');
    await fireEvent.click(screen.getByTestId('rule-save'));

    await vi.waitFor(() => expect(onerror).toHaveBeenCalledWith(refused));
    expect(calls).toContainEqual([
      'save_compliance_rule',
      {
        rule: {
          id: null,
          name: 'no telnet at the office',
          scope: { kind: 'site', siteId: 's1' },
          check: { kind: 'mustNotContain', text: '   ' },
          enabled: true,
        },
      },
    ]);
    expect((screen.getByTestId('rule-name') as HTMLInputElement).value).toBe('no telnet at the office');
    expect((screen.getByTestId('rule-scope') as HTMLSelectElement).value).toBe('site:s1');
    expect((screen.getByTestId('rule-kind') as HTMLSelectElement).value).toBe('mustNotContain');
    expect((screen.getByTestId('rule-text') as HTMLInputElement).value).toBe('   ');
    expect((screen.getByTestId('rule-save') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getAllByTestId('rule-row')).toHaveLength(4);
    expect(onchange).not.toHaveBeenCalled();
  });

  it('hands a failed check to onerror', async () => {
    const broken = { kind: 'store', message: 'The store could not be read.' };
    complianceInvoke([...RULES], {
      config_check: () => {
        throw broken;
      },
    });
    const onerror = vi.fn();
    render(Compliance, { props: { onerror, onopen: vi.fn() } });
    await vi.waitFor(() => expect(onerror).toHaveBeenCalledWith(broken));
    expect((screen.getByTestId('compliance-check') as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('Backups and compliance', () => {
  function status(deviceId: string, name: string, rulesFailed: string[]): RouterBackupStatus {
    return { deviceId, name, latest: null, lastFailure: null, lastFailureAt: null, rulesFailed };
  }

  it("shows each router's broken rules in its row, and reads them again once a rule changes", async () => {
    let rows = [status('d1', 'edge-1', ['API from the office', 'telnet off']), status('d2', 'edge-2', [])];
    const calls = complianceInvoke([...RULES], { backup_status: () => rows });
    const onerror = vi.fn();
    render(Backups, { props: { onerror, onopen: vi.fn() } });
    await vi.waitFor(() => expect(screen.getAllByTestId('backup-row')).toHaveLength(2));
    const cells = screen.getAllByTestId('rules-failed');
    expect([...cells[0].querySelectorAll('.badge')].map((b) => b.textContent)).toEqual(['API from the office', 'telnet off']);
    expect(cells[1].textContent?.trim()).toBe('');
    expect(screen.getByTestId('backup-counts').textContent).toContain('1 breaking a rule');
    expect(screen.getByTestId('compliance')).toBeTruthy();

    rows = [status('d1', 'edge-1', ['telnet off']), status('d2', 'edge-2', [])];
    await vi.waitFor(() => expect(screen.getAllByTestId('rule-row')).toHaveLength(4));
    await fireEvent.click(row('API from the office').querySelector('[data-testid="rule-toggle"]')!);
    await vi.waitFor(() =>
      expect([...screen.getAllByTestId('rules-failed')[0].querySelectorAll('.badge')].map((b) => b.textContent)).toEqual([
        'telnet off',
      ]),
    );
    expect(count(calls, 'backup_status')).toBe(2);
    expect(onerror).not.toHaveBeenCalled();
  });

  it('checks the rules again after a backup', async () => {
    const calls = complianceInvoke([...RULES], {
      backup_status: () => [status('d1', 'edge-1', [])],
      backup_routers: () => ({ routers: [], newVersions: 0, unchanged: 1, drift: 0, failed: 0, seconds: 0.5 }),
    });
    render(Backups, { props: { onerror: vi.fn(), onopen: vi.fn() } });
    await vi.waitFor(() => expect(screen.getAllByTestId('compliance-failure')).toHaveLength(2));
    expect(count(calls, 'config_check')).toBe(1);
    await fireEvent.click(screen.getByTestId('backup-now'));
    await vi.waitFor(() => expect(count(calls, 'config_check')).toBe(2));
  });
});
