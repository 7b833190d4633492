/**
 * The UDGL language for CodeMirror 6: the stream tokenizer of `tokens.ts` with each
 * token name mapped to standard highlighting tags, so every JupyterLab theme colours
 * UDGL as it colours other languages. Where the precise tag (a kind is a type name, a
 * duration a unit) has no colour in JupyterLab's style, a second, styled tag follows.
 */
import { LanguageSupport, StreamLanguage } from '@codemirror/language';
import { Tag, tags } from '@lezer/highlight';

import {
  IUDGLState,
  TokenName,
  blankLine,
  copyState,
  startState,
  token
} from './tokens';

export const UDGL_MIME = 'text/x-udgl';

const TAGS: { [name in TokenName]: Tag | Tag[] } = {
  meta: tags.meta,
  comment: tags.lineComment,
  string: tags.string,
  param: tags.special(tags.variableName),
  arrow: tags.operator,
  number: tags.number,
  quantity: [tags.unit, tags.number],
  brace: tags.brace,
  squareBracket: tags.squareBracket,
  paren: tags.paren,
  equals: tags.definitionOperator,
  separator: tags.separator,
  keyword: tags.keyword,
  kind: [tags.typeName, tags.standard(tags.variableName)],
  template: [tags.className, tags.standard(tags.variableName)],
  definition: tags.definition(tags.variableName),
  node: tags.variableName,
  attribute: tags.propertyName,
  function: tags.function(tags.variableName),
  bool: tags.bool,
  atom: tags.atom,
  invalid: tags.invalid
};

export const udglLanguage = StreamLanguage.define<IUDGLState>({
  name: 'udgl',
  startState,
  copyState,
  blankLine,
  token,
  tokenTable: TAGS,
  languageData: { commentTokens: { line: '#' } }
});

export function udgl(): LanguageSupport {
  return new LanguageSupport(udglLanguage);
}
