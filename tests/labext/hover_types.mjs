// Runs the extension's hover helpers (labextension/lib/hover.js) under Node: for each
// [text, column, types] read as JSON from stdin, prints [the name at that column, what
// the hover says about it]. The helpers are pure; the CodeMirror extension around them
// (udglTypeHover, which imports @codemirror/view) is cut off the copy that is loaded.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const labext = process.argv[2];
const helpers = readFileSync(join(labext, 'lib', 'hover.js'), 'utf8')
  .split('\n')
  .filter(line => !line.startsWith('import '))
  .join('\n')
  .replace(/export function udglTypeHover[\s\S]*$/, '');
const copy = join(mkdtempSync(join(tmpdir(), 'udgl-hover-')), 'hover.mjs');
writeFileSync(copy, helpers);
const hover = await import(pathToFileURL(copy).href);

const cases = JSON.parse(readFileSync(0, 'utf8'));
const out = cases.map(([text, column, types]) => {
  const span = hover.nameAt(text, column);
  if (!span) {
    return null;
  }
  const name = text.slice(span[0], span[1]);
  return [name, types[name] ? hover.describeTypes(types[name]) : null];
});
process.stdout.write(JSON.stringify(out));
