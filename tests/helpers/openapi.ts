// Checks real responses against the API's own OpenAPI document (as Owncast does): the status must be documented
// for that operation, the content type must be one it lists, and a JSON body must match its schema.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components?: unknown };

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly routes: { re: RegExp; template: string }[];

  constructor(private readonly doc: Doc) {
    (addFormats as unknown as (a: Ajv2020) => void)(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema({ ...doc, $id: 'glint-openapi' });
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      re: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+') + '$'),
    }));
  }

  static async load(base: string): Promise<OpenApiChecker> {
    const res = await fetch(`${base}/api/openapi.json`);
    if (!res.ok) throw new Error(`GET /api/openapi.json answered ${res.status}`);
    return new OpenApiChecker((await res.json()) as Doc);
  }

  /** The path template documenting this concrete path, if any. */
  templateFor(pathname: string): string | undefined {
    return this.routes.find((r) => r.re.test(pathname))?.template;
  }

  /** Throws a readable error when the response does not match the document. Returns false for undocumented paths. */
  check(method: string, pathname: string, status: number, contentType: string | null, body: unknown): boolean {
    const template = this.templateFor(pathname);
    if (!template) return false;
    const op = this.doc.paths[template]![method.toLowerCase()];
    const where = `${method} ${pathname} (${template}) → ${status}`;
    if (!op) throw new Error(`${where}: method not documented`);
    const resp = op.responses?.[String(status)] ?? op.responses?.default;
    if (!resp) throw new Error(`${where}: status not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
    if (!resp.content) {
      if (body !== undefined && body !== '' && body !== null) throw new Error(`${where}: documented without a body but one came`);
      return true;
    }
    const type = (contentType ?? '').split(';')[0]!.trim();
    if (!(type in resp.content)) throw new Error(`${where}: content type "${type}" not documented (${Object.keys(resp.content).join(', ')})`);
    if (!type.endsWith('json') || !resp.content[type]!.schema) return true;
    const pointer = ['paths', template, method.toLowerCase(), 'responses', String(status) in (op.responses ?? {}) ? String(status) : 'default', 'content', type, 'schema']
      .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const validate = this.ajv.getSchema(`glint-openapi#/${pointer}`);
    if (!validate) throw new Error(`${where}: cannot compile the documented schema`);
    if (!validate(body)) {
      throw new Error(`${where}: body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    }
    return true;
  }
}
