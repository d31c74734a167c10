#!/usr/bin/env node
// `npx kubepulse …`: runs the TypeScript CLI through tsx's loader, so no build step is needed locally.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
