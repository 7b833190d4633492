/**
 * The UDGL tokenizer, as a CodeMirror stream parser.
 *
 * It has no imports so that the tests can run it under Node with CodeMirror's own
 * `StringStream` and compare its tokens with the core's lexer. Words are classified
 * by where they stand in a statement, as the core's grammar reads them: the first
 * word of a declaration is its kind (or template), the second the name it declares,
 * a word before `=` inside braces an attribute, a word after `->` a node.
 */

/** The part of CodeMirror's `StringStream` the tokenizer uses. */
export interface IUDGLStream {
  pos: number;
  string: string;
  sol(): boolean;
  eol(): boolean;
  peek(): string | undefined;
  next(): string | void;
  eatSpace(): boolean;
  skipToEnd(): void;
  match(pattern: RegExp, consume?: boolean): boolean | RegExpMatchArray | null;
}

/** What the tokenizer remembers between tokens and lines. */
export interface IUDGLState {
  /** 1-based number of the line being read. */
  line: number;
  /** Open brackets, innermost last. */
  brackets: string[];
  /** Tokens read at bracket depth 0 in the current statement. */
  index: number;
  /** What the statement is: a keyword's name, `decl`, `chain` or `` (not yet known). */
  role: string;
  /** The previous token was `=`. */
  afterEquals: boolean;
  /** Templates declared so far. */
  templates: string[];
}

/** Words that start a statement of their own kind. */
export const KEYWORDS = ['graph', 'param', 'defaults', 'template', 'cluster'];

/** Token names, and the highlighting tag each maps to (see `language.ts`). */
export const TOKEN_NAMES = [
  'meta',
  'comment',
  'string',
  'param',
  'arrow',
  'number',
  'quantity',
  'brace',
  'squareBracket',
  'paren',
  'equals',
  'separator',
  'keyword',
  'kind',
  'template',
  'definition',
  'node',
  'attribute',
  'function',
  'bool',
  'atom',
  'invalid'
] as const;

export type TokenName = (typeof TOKEN_NAMES)[number];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[A-Za-z%]*/;
const STRING = /^"([^"\\]|\\.)*"?/;
const OPEN: { [c: string]: string } = { '{': '}', '[': ']', '(': ')' };
const CLOSE: { [c: string]: string } = { '}': '{', ']': '[', ')': '(' };
const BRACKET: { [c: string]: TokenName } = {
  '{': 'brace',
  '}': 'brace',
  '[': 'squareBracket',
  ']': 'squareBracket',
  '(': 'paren',
  ')': 'paren'
};

export function startState(): IUDGLState {
  return {
    line: 0,
    brackets: [],
    index: 0,
    role: '',
    afterEquals: false,
    templates: []
  };
}

export function copyState(s: IUDGLState): IUDGLState {
  return { ...s, brackets: s.brackets.slice(), templates: s.templates.slice() };
}

function newLine(state: IUDGLState): void {
  state.line += 1;
  if (state.brackets.length === 0) {
    state.index = 0;
    state.role = '';
    state.afterEquals = false;
  }
}

/** An empty line: CodeMirror calls this instead of `token`. */
export function blankLine(state: IUDGLState): void {
  newLine(state);
}

function valueWord(stream: IUDGLStream, word: string): TokenName {
  if (stream.match(/^\s*\(/, false)) {
    return 'function';
  }
  return word === 'true' || word === 'false' ? 'bool' : 'atom';
}

function classifyWord(
  stream: IUDGLStream,
  state: IUDGLState,
  word: string
): TokenName {
  const top = state.brackets[state.brackets.length - 1];
  if (top === '{' || top === '(') {
    return stream.match(/^\s*=/, false) ? 'attribute' : valueWord(stream, word);
  }
  if (top === '[') {
    return state.role === 'chain' ? 'node' : valueWord(stream, word);
  }
  if (state.index === 0) {
    if (stream.match(/^\s*->/, false)) {
      state.role = 'chain';
      return 'node';
    }
    if (KEYWORDS.includes(word)) {
      state.role = word;
      return 'keyword';
    }
    state.role = 'decl';
    return state.templates.includes(word) ? 'template' : 'kind';
  }
  if (state.role === 'chain') {
    return 'node';
  }
  if (state.afterEquals) {
    if (state.role === 'template') {
      return 'kind';
    }
    return valueWord(stream, word);
  }
  if (state.index === 1 && state.role !== 'defaults' && state.role !== 'cluster') {
    if (state.role === 'template') {
      state.templates.push(word);
    }
    return 'definition';
  }
  return 'invalid';
}

function read(stream: IUDGLStream, state: IUDGLState): TokenName | null {
  if (stream.eatSpace()) {
    return null;
  }
  const ch = stream.peek() ?? '';
  if (ch === '#') {
    stream.skipToEnd();
    return 'comment';
  }
  if (ch === '"') {
    stream.match(STRING);
    return 'string';
  }
  if (stream.match(/^->/)) {
    state.role = 'chain';
    return 'arrow';
  }
  if (stream.match(/^\$[A-Za-z_][A-Za-z0-9_]*/)) {
    return 'param';
  }
  const number = stream.match(NUMBER);
  if (number) {
    return /[A-Za-z%]$/.test((number as RegExpMatchArray)[0]) ? 'quantity' : 'number';
  }
  if (OPEN[ch]) {
    stream.next();
    if (ch === '[' && state.brackets.length === 0 && state.index === 0) {
      state.role = 'chain'; // `[a, b] -> c`: only an edge statement starts with a group
    }
    state.brackets.push(ch);
    return BRACKET[ch];
  }
  if (CLOSE[ch]) {
    stream.next();
    if (state.brackets[state.brackets.length - 1] === CLOSE[ch]) {
      state.brackets.pop();
    }
    return BRACKET[ch];
  }
  if (ch === '=') {
    stream.next();
    return 'equals';
  }
  if (ch === ',') {
    stream.next();
    return 'separator';
  }
  const word = stream.match(NAME);
  if (word) {
    return classifyWord(stream, state, (word as RegExpMatchArray)[0]);
  }
  stream.next();
  return 'invalid';
}

/** Read one token from `stream`; its name, or null for white space. */
export function token(stream: IUDGLStream, state: IUDGLState): TokenName | null {
  if (stream.sol()) {
    newLine(state);
    if (state.line === 1 && stream.match(/^%%.*/)) {
      return 'meta'; // a notebook cell's magic line stays readable
    }
  }
  const depth = state.brackets.length;
  const name = read(stream, state);
  if (name !== null) {
    state.afterEquals = name === 'equals';
    if (depth === 0 && name !== 'comment') {
      state.index += 1;
    }
  }
  return name;
}
