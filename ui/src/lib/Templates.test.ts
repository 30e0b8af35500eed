import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Templates from './Templates.svelte';
import { setInvoke, type StoredTemplate } from './api';
import { fakeInvoke } from './test-fixtures';

afterEach(() => setInvoke());

describe('Templates', () => {
  it('checks as typed, test-renders with sample values, saves and lists', async () => {
    let stored: StoredTemplate[] = [];
    const calls = fakeInvoke({
      list_templates: () => stored,
      check_template: (a) =>
        (a?.text as string).includes('{{ x')
          ? { parameters: [], errors: [{ line: 1, column: 3, message: 'unclosed placeholder' }] }
          : { parameters: [{ name: 'identity', type: 'name', automatic: false }], errors: [], planRefusal: null },
      test_render: (a) =>
        (a?.values as Record<string, string>).identity === 'bad name'
          ? { rendered: null, errors: [{ line: 1, column: 30, message: 'identity: letters, digits, - and _ only' }] }
          : { rendered: `/system identity set name=${(a?.values as Record<string, string>).identity}`, errors: [] },
      save_template: (a) => {
        const t = { id: 't1', name: a?.name as string, body: a?.body as string, updatedAt: Date.now() };
        stored = [t];
        return t;
      },
    });
    render(Templates, { props: { onerror: vi.fn() } });
    const sample = await vi.waitFor(() => screen.getByTestId('sample-identity'));
    await fireEvent.input(sample, { target: { value: 'bad name' } });
    await fireEvent.click(screen.getByTestId('template-test'));
    await vi.waitFor(() => expect(screen.getByTestId('render-errors').textContent).toContain('Line 1, column 30'));
    await fireEvent.input(sample, { target: { value: 'core-1' } });
    await fireEvent.click(screen.getByTestId('template-test'));
    await vi.waitFor(() => expect(screen.getByTestId('rendered').textContent).toBe('/system identity set name=core-1'));

    await fireEvent.input(screen.getByTestId('template-name'), { target: { value: 'Branch bootstrap' } });
    await fireEvent.click(screen.getByTestId('template-save'));
    await vi.waitFor(() => expect(screen.getByTestId('template-item').textContent).toBe('Branch bootstrap'));
    expect(calls).toContainEqual(['save_template', { id: '', name: 'Branch bootstrap', body: '/system identity set name={{ identity: name }}\n' }]);

    await fireEvent.input(screen.getByTestId('template-body'), { target: { value: '/x set a={{ x' } });
    await vi.waitFor(() => expect(screen.getByTestId('template-body-errors').textContent).toContain('unclosed placeholder'));
    expect((screen.getByTestId('template-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says as it is typed when a template can be pushed only as one /import', async () => {
    fakeInvoke({
      list_templates: () => [],
      check_template: () => ({
        parameters: [],
        errors: [],
        planRefusal: { line: 1, column: 1, message: ':local is script logic the plan does not model' },
      }),
    });
    render(Templates, { props: { onerror: vi.fn() } });
    await vi.waitFor(() =>
      expect(screen.getByTestId('template-plan-refusal').textContent).toContain('Line 1: :local is script logic'),
    );
    // Not an error: such a template is saved and pushed with /import.
    expect(screen.queryByTestId('template-body-errors')).toBeNull();
  });
});
