/** Hover on a node's name: its input and output types, from the last lint reply. */
import { EditorView, hoverTooltip } from '@codemirror/view';

import { INodeTypes } from './api';

const lastTypes = new WeakMap<EditorView, Record<string, INodeTypes>>();

/** Keep the types of `view`'s latest lint reply (the lint runs as the text changes). */
export function rememberTypes(
  view: EditorView,
  types: Record<string, INodeTypes> | undefined
): void {
  lastTypes.set(view, types ?? {});
}

/** The node name (dotted for a subgraph's nodes) around column `at` of `text`. */
export function nameAt(text: string, at: number): [number, number] | null {
  const word = /[A-Za-z0-9_.]/;
  let from = at;
  let to = at;
  while (from > 0 && word.test(text[from - 1])) {
    from -= 1;
  }
  while (to < text.length && word.test(text[to])) {
    to += 1;
  }
  return to > from ? [from, to] : null;
}

/** "takes float32[n, 4], gives int64[n]" (the known halves only). */
export function describeTypes(types: INodeTypes): string {
  const parts: string[] = [];
  if (types.input) {
    parts.push(`takes ${types.input}`);
  }
  if (types.output) {
    parts.push(`gives ${types.output}`);
  }
  return parts.join(', ');
}

export function udglTypeHover() {
  return hoverTooltip((view, pos) => {
    const types = lastTypes.get(view);
    if (!types) {
      return null;
    }
    const line = view.state.doc.lineAt(pos);
    const span = nameAt(line.text, pos - line.from);
    if (!span) {
      return null;
    }
    const name = line.text.slice(span[0], span[1]);
    const known = types[name];
    if (!known || !describeTypes(known)) {
      return null;
    }
    return {
      pos: line.from + span[0],
      end: line.from + span[1],
      above: true,
      create: () => {
        const dom = document.createElement('div');
        dom.className = 'hogar-type-tooltip';
        dom.textContent = `${name}: ${describeTypes(known)}`;
        return { dom };
      }
    };
  });
}
