import { describe, expect, it } from 'vitest';
import { NO_FILTER } from './devices';
import { device } from './test-fixtures';
import { ViewState } from './view.svelte';

describe('ViewState', () => {
  it('starts on the fleet overview with nothing chosen', () => {
    const view = new ViewState();
    expect(view.page).toBe('main');
    expect(view.onOverview).toBe(true);
    expect(view.selectedId).toBeNull();
    expect(view.checked.size).toBe(0);
    expect(view.filter).toEqual(NO_FILTER);
    expect(view.error).toBeNull();
  });

  it('opens a router, a tool page and the settings over it, and goes back', () => {
    const view = new ViewState();
    view.select('a');
    expect(view.selectedId).toBe('a');
    expect(view.onOverview).toBe(false);

    view.openPage('templates');
    expect(view.isOpen('templates')).toBe(true);
    view.openSettings();
    expect(view.showSettings).toBe(true);
    // The settings hide the page under them.
    expect(view.isOpen('templates')).toBe(false);
    view.closeSettings();
    expect(view.isOpen('templates')).toBe(true);

    view.openSettings();
    view.select('b');
    expect(view.showSettings).toBe(false);
    expect(view.page).toBe('main');
    expect(view.selectedId).toBe('b');

    view.showOverview();
    expect(view.onOverview).toBe(true);
    expect(view.selectedId).toBeNull();
  });

  it('starts Provision with the open router, or none', () => {
    const view = new ViewState();
    view.openPage('provision');
    expect(view.provisionTargets).toEqual([]);
    view.select('a');
    view.openPage('provision');
    expect(view.page).toBe('provision');
    expect(view.provisionTargets).toEqual(['a']);
  });

  it('ticks routers one at a time or all shown, and sends the ticked ones to a push in list order', () => {
    const view = new ViewState();
    const before = view.checked;
    view.check('b', true);
    // Replaced, not edited in place.
    expect(view.checked).not.toBe(before);
    expect(before.size).toBe(0);

    view.checkAll(['a', 'c'], true);
    expect([...view.checked].sort()).toEqual(['a', 'b', 'c']);
    view.checkAll(['a', 'x'], false);
    expect([...view.checked].sort()).toEqual(['b', 'c']);
    view.check('c', false);
    expect([...view.checked]).toEqual(['b']);

    view.checkAll(['gone', 'a'], true);
    const list = [device({ id: 'a' }), device({ id: 'b' }), device({ id: 'c' })];
    expect(view.checkedAmong(list)).toEqual(['a', 'b']);

    view.openSettings();
    view.pushTo(view.checkedAmong(list));
    expect(view.isOpen('provision')).toBe(true);
    expect(view.provisionTargets).toEqual(['a', 'b']);

    view.clearChecked();
    expect(view.checked.size).toBe(0);
  });

  it('reports an error for the banner, normalised, until dismissed', () => {
    const view = new ViewState();
    const { report } = view;
    report('could not reach 10.9.9.9');
    expect(view.error?.message).toContain('could not reach 10.9.9.9');
    report({ kind: 'auth', message: 'login refused' });
    expect(view.error).toEqual({ kind: 'auth', message: 'login refused' });
    view.dismissError();
    expect(view.error).toBeNull();
  });

  it('keeps each window apart', () => {
    const one = new ViewState();
    const two = new ViewState();
    one.select('a');
    one.filter.query = 'edge';
    expect(two.selectedId).toBeNull();
    expect(two.filter.query).toBe('');
    expect(NO_FILTER.query).toBe('');
  });
});
