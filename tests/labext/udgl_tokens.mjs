// Runs the extension's UDGL tokenizer (labextension/lib/tokens.js) the way CodeMirror's
// StreamLanguage does, with CodeMirror's own StringStream, on texts read as a JSON list
// from stdin; prints, per text, its tokens as [line, from, to, name] (line 1-based,
// from/to 0-based columns, to exclusive).
import { createRequire } from 'node:module';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const labext = process.argv[2];
const require = createRequire(join(labext, 'package.json'));
const { StringStream } = require('@codemirror/language');
// lib/ is ES module code in a package that does not say so: load a .mjs copy
const copy = join(mkdtempSync(join(tmpdir(), 'udgl-tokens-')), 'tokens.mjs');
copyFileSync(join(labext, 'lib', 'tokens.js'), copy);
const udgl = await import(pathToFileURL(copy).href);

const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = texts.map(text => {
  const state = udgl.startState();
  const tokens = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') {
      udgl.blankLine(state);
      return;
    }
    const stream = new StringStream(line, 4, 2);
    while (!stream.eol()) {
      stream.start = stream.pos;
      const name = udgl.token(stream, state);
      if (stream.pos === stream.start) {
        throw new Error(`no progress at line ${i + 1}, column ${stream.pos}`);
      }
      if (name !== null) {
        tokens.push([i + 1, stream.start, stream.pos, name]);
      }
    }
  });
  return tokens;
});
process.stdout.write(JSON.stringify(out));
