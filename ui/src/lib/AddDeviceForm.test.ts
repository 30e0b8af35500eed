import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AddDeviceForm from './AddDeviceForm.svelte';
import type { NewDevice } from './api';
import { MESSAGES } from './validation';

function setup(onsubmit = vi.fn(async (_input: NewDevice): Promise<boolean | void> => true)) {
  render(AddDeviceForm, { onsubmit });
  return {
    onsubmit,
    host: screen.getByTestId('add-host') as HTMLInputElement,
    port: screen.getByTestId('add-port') as HTMLInputElement,
    username: screen.getByTestId('add-username') as HTMLInputElement,
    password: screen.getByTestId('add-password') as HTMLInputElement,
    transport: screen.getByTestId('add-transport') as HTMLSelectElement,
    submit: screen.getByTestId('add-submit') as HTMLButtonElement,
    form: screen.getByTestId('add-device-form') as HTMLFormElement,
  };
}

describe('AddDeviceForm', () => {
  it('plain API is a choice that brings its port, and says the password crosses in clear', async () => {
    const f = setup();
    expect(f.transport.textContent).toContain('API (password in clear)');
    expect(f.transport.querySelector('option[value=api]')!.getAttribute('title')).toContain('crosses the network in clear');
    await fireEvent.change(f.transport, { target: { value: 'api' } });
    expect(f.port.value).toBe('8728');
    await fireEvent.input(f.host, { target: { value: '10.0.0.9' } });
    await fireEvent.submit(f.form);
    expect(f.onsubmit).toHaveBeenCalledWith(expect.objectContaining({ transport: 'api', port: 8728 }));
    // A port typed by hand stays when the connection type changes.
    await fireEvent.input(f.port, { target: { value: '18728' } });
    await fireEvent.change(f.transport, { target: { value: 'api-ssl' } });
    expect(f.port.value).toBe('18728');
  });

  it('starts with the documented defaults', () => {
    const f = setup();
    expect(f.host.value).toBe('');
    expect(f.host.placeholder).toBe('192.168.88.1');
    // Encrypted unless chosen otherwise.
    expect(f.transport.value).toBe('api-ssl');
    expect(f.port.value).toBe('8729');
    expect(f.port.type).toBe('number');
    expect(f.username.value).toBe('admin');
    expect(f.password.type).toBe('password');
    expect(f.submit.textContent?.trim()).toBe('Add device');
  });

  it('shows an inline message for an out-of-range port and does not submit', async () => {
    const f = setup();
    await fireEvent.input(f.host, { target: { value: '10.0.0.1' } });
    await fireEvent.input(f.port, { target: { value: '70000' } });
    await fireEvent.submit(f.form);

    expect(screen.getByTestId('add-port-error').textContent).toBe(MESSAGES.port);
    expect(f.port.getAttribute('aria-invalid')).toBe('true');
    expect(screen.queryByTestId('add-host-error')).toBeNull();
    expect(f.onsubmit).not.toHaveBeenCalled();
  });

  it('shows an inline message for an empty host', async () => {
    const f = setup();
    await fireEvent.click(f.submit);
    expect(screen.getByTestId('add-host-error').textContent).toBe(MESSAGES.hostEmpty);
    expect(f.onsubmit).not.toHaveBeenCalled();
  });

  it('submits the validated payload and clears the password on success', async () => {
    const f = setup();
    await fireEvent.input(f.host, { target: { value: ' 192.168.88.1 ' } });
    await fireEvent.input(f.port, { target: { value: '8729' } });
    await fireEvent.input(f.username, { target: { value: 'fleet' } });
    await fireEvent.input(f.password, { target: { value: 's3cret' } });
    await fireEvent.submit(f.form);

    expect(f.onsubmit).toHaveBeenCalledTimes(1);
    expect(f.onsubmit).toHaveBeenCalledWith({
      host: '192.168.88.1',
      port: 8729,
      username: 'fleet',
      password: 's3cret',
      transport: 'api-ssl',
    });
    await vi.waitFor(() => expect(f.password.value).toBe(''));
    expect(f.host.value).toBe('');
    expect(f.username.value).toBe('fleet');
    expect(f.port.value).toBe('8729');
    expect(screen.queryByTestId('add-port-error')).toBeNull();
  });

  it('keeps what was typed when the caller reports failure', async () => {
    const f = setup(vi.fn(async () => false));
    await fireEvent.input(f.host, { target: { value: '10.1.1.1' } });
    await fireEvent.input(f.password, { target: { value: 'pw' } });
    await fireEvent.submit(f.form);

    expect(f.onsubmit).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(f.submit.disabled).toBe(false));
    expect(f.host.value).toBe('10.1.1.1');
    expect(f.password.value).toBe('pw');
  });

  it('survives a rejecting callback and shows a busy state while waiting', async () => {
    let reject!: (e: unknown) => void;
    const f = setup(vi.fn(() => new Promise<boolean>((_, r) => (reject = r))));
    await fireEvent.input(f.host, { target: { value: '10.1.1.1' } });
    await fireEvent.submit(f.form);

    expect(f.submit.disabled).toBe(true);
    expect(f.submit.textContent?.trim()).toBe('Adding…');
    // A second submit while busy is ignored.
    await fireEvent.submit(f.form);
    expect(f.onsubmit).toHaveBeenCalledTimes(1);

    reject({ kind: 'auth', message: 'Login rejected.' });
    await vi.waitFor(() => expect(f.submit.disabled).toBe(false));
    expect(f.host.value).toBe('10.1.1.1');
  });
});
