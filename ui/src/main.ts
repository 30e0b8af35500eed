import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) {
  throw new Error('Fleetdeck: #app element missing from index.html');
}

const app = mount(App, { target });
// The first frame with the app drawn: what the start-up benchmark reads.
requestAnimationFrame(() => performance.mark('fleetdeck-first-paint'));

export default app;
