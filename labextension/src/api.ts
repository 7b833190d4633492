/** Calls to the server extension (`POST {baseUrl}/hogar-nb/...`), authenticated as any Jupyter API call. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** One diagnostic as the lint endpoint sends it (1-based lines and columns). */
export interface IServerDiagnostic {
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  hint: string | null;
  line: number | null;
  column: number | null;
  end_line: number | null;
  end_column: number | null;
  node: string | null;
}

/** A node's known types, as the lint endpoint infers them (`float32[n, 4]`). */
export interface INodeTypes {
  input?: string;
  output?: string;
  origin?: string;
}

export interface ILintReply {
  diagnostics: IServerDiagnostic[];
  errors: number;
  parsed: boolean;
  types?: Record<string, INodeTypes>;
}

export interface ICompletionItem {
  label: string;
  type: string;
  detail?: string;
  info?: string;
  apply?: string;
}

export interface ICompleteReply {
  prefix: string;
  items: ICompletionItem[];
}

export interface IFormatReply {
  text: string | null;
  changed: boolean;
  diagnostics: IServerDiagnostic[];
}

let settings: ServerConnection.ISettings | null = null;

/** POST `body` as JSON to `hogar-nb/{endpoint}` and return the JSON reply. */
export async function post<T>(endpoint: string, body: object): Promise<T> {
  settings = settings ?? ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'hogar-nb', endpoint);
  const response = await ServerConnection.makeRequest(
    url,
    { method: 'POST', body: JSON.stringify(body) },
    settings
  );
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response, data.message);
  }
  return data as T;
}
