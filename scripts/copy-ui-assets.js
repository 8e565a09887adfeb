// Copies the web UI's static files (the stylesheet) next to its compiled modules in dist/ui.
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/ui', { recursive: true });
copyFileSync('src/ui/style.css', 'dist/ui/style.css');
