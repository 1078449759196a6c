// Entry point of the web client bundle.
import { render } from 'preact';
import { App } from './ui/App.js';
import { Store } from './store.js';

render(<App store={new Store()} />, document.getElementById('app')!);
