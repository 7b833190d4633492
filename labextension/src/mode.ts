/** Which editors hold UDGL: a `%%udgl` code cell, or a `.udgl` file. */
import { Text } from '@codemirror/state';

export const MAGIC = '%%udgl';

/** Does this text start with the `%%udgl` magic (a notebook cell's first line)? */
export function isUDGLCell(source: string): boolean {
  return /^%%udgl(\s|$)/.test(source);
}

/** 'cell' for a `%%udgl` cell, 'file' for anything else shown as UDGL. */
export function modeOf(doc: Text): 'cell' | 'file' {
  return isUDGLCell(doc.line(1).text) ? 'cell' : 'file';
}
