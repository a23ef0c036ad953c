import { createElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Popover } from './popover/Popover.js';
import { connectToCore } from './store/connect.js';
import './styles/base.css';
import './styles/popover.css';

connectToCore('popover');
const root = document.getElementById('root');
if (root) createRoot(root).render(createElement(StrictMode, null, createElement(Popover)));
