// A bare page around pev2's Plan component, for the plan-viewer benchmark.
//
// The plan text comes from, in this order: window.__PLAN__ (set before the page's scripts run,
// e.g. by an init script), the `plan` query parameter (a URL on this origin to fetch), or a
// later call of window.__pev2Show(text), which the harness uses so that it can time from the
// moment the text is handed over. Until there is a plan the page shows a one-line placeholder.
import { createApp, h, shallowRef } from 'vue';
import { Plan } from 'pev2';
import 'bootstrap/dist/css/bootstrap.min.css';
import 'pev2/dist/pev2.css';

const source = shallowRef(null);

const App = {
  setup() {
    return () =>
      source.value === null
        ? h('p', { id: 'waiting', class: 'p-3' }, 'No plan yet.')
        : h(Plan, { planSource: source.value, planQuery: '' });
  },
};

window.__pev2Show = (text) => {
  source.value = String(text);
};

createApp(App).mount('#app');

if (typeof window.__PLAN__ === 'string') {
  window.__pev2Show(window.__PLAN__);
} else {
  const url = new URLSearchParams(location.search).get('plan');
  if (url) {
    fetch(url)
      .then((r) => r.text())
      .then((t) => window.__pev2Show(t));
  }
}
window.__pev2Ready = true;
