// The values of one parameterised statement, collected while its SQL text is built: each value is bound, never inlined.
export class SqlParams {
  readonly values: unknown[] = [];

  /** binds v and returns its placeholder ($1, $2, …) */
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }

  /** binds a JSON text as a jsonb parameter */
  json(text: string): string {
    return `${this.add(text)}::jsonb`;
  }
}
