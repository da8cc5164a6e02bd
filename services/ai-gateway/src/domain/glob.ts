// Model globs of the route and price tables: `*` is any run of characters, `?` one; everything else literal.
export const isGlob = (pattern: string): boolean => /[*?]/.test(pattern);

export function globMatcher(pattern: string): (name: string) => boolean {
  if (!isGlob(pattern)) return (name) => name === pattern;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return (name) => re.test(name);
}
