import './settings/zod-jitless.js';
import { createElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Settings } from './settings/Settings.js';
import { SECTIONS, type SectionId } from './store/settings-slice.js';
import { connectToCore } from './store/connect.js';
import { usePavise } from './store/store.js';
import './styles/base.css';
import './styles/settings.css';

const requested = new URLSearchParams(location.search).get('section');
if (requested && (SECTIONS as readonly string[]).includes(requested)) usePavise.getState().setSection(requested as SectionId);
connectToCore('settings');
const root = document.getElementById('root');
if (root) createRoot(root).render(createElement(StrictMode, null, createElement(Settings)));
