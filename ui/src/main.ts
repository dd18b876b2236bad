import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { app } from './lib/state.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('dbdeck: #app is missing from index.html');
mount(App, { target });
void app.start();
