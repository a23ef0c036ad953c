import { app, dialog } from 'electron';
import { startShell } from './shell.js';

// The Electron entry point (package.json "main" → dist/electron/main.js). Everything lives in shell.ts.
startShell({ env: process.env }).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`pavise: ${message}`);
  dialog.showErrorBox('Pavise could not start', message);
  app.exit(1);
});
