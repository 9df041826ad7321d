/** Test-side HTTP helpers: bodies as loosely typed JSON for assertions. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The response body parsed as JSON, typed loosely for assertions. */
export async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}
