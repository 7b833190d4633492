/** Live diagnostics: the text goes to the lint endpoint, the answer to `@codemirror/lint`. */
import { Diagnostic, linter } from '@codemirror/lint';
import { Text } from '@codemirror/state';
import { EditorView } from '@codemirror/view';

import { ILintReply, IServerDiagnostic, post } from './api';
import { rememberTypes } from './hover';
import { modeOf } from './mode';

/** Milliseconds of quiet typing before the text is checked. */
export const LINT_DELAY = 300;

function offset(doc: Text, line: number, column: number): number {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(column, 1) - 1, l.to);
}

/** A server diagnostic at its place in `doc` (a graph-wide one on the first graph line). */
export function toCodeMirror(
  doc: Text,
  d: IServerDiagnostic,
  cell: boolean
): Diagnostic {
  let from: number;
  let to: number;
  if (d.line === null) {
    const l = doc.line(cell && doc.lines > 1 ? 2 : 1);
    from = l.from;
    to = l.to;
  } else {
    from = offset(doc, d.line, d.column ?? 1);
    to =
      d.end_line !== null && d.end_column !== null
        ? offset(doc, d.end_line, d.end_column)
        : from + 1;
    to = Math.min(Math.max(to, from), doc.length);
    if (to === from && from === doc.lineAt(from).to && from > doc.lineAt(from).from) {
      from -= 1; // a problem at the end of a line marks its last character
    }
  }
  return {
    from,
    to,
    severity: d.severity,
    source: d.code,
    message: d.hint ? `${d.message} (${d.hint})` : d.message,
    renderMessage: () => {
      const box = document.createElement('div');
      box.className = 'hogar-lint-message';
      const head = box.appendChild(document.createElement('div'));
      head.textContent = `${d.code}: ${d.message}`;
      if (d.hint) {
        const hint = box.appendChild(document.createElement('div'));
        hint.className = 'hogar-lint-hint';
        hint.textContent = `hint: ${d.hint}`;
      }
      return box;
    }
  };
}

async function lintView(view: EditorView): Promise<Diagnostic[]> {
  const doc = view.state.doc;
  const cell = modeOf(doc) === 'cell';
  let reply: ILintReply;
  try {
    reply = await post<ILintReply>('lint', { text: doc.toString(), cell });
  } catch (err) {
    console.warn('hogar_nb: UDGL lint failed', err);
    return [];
  }
  rememberTypes(view, reply.types);
  return reply.diagnostics.map(d => toCodeMirror(doc, d, cell));
}

export function udglLinter() {
  return linter(lintView, { delay: LINT_DELAY });
}
