// One strong ETag for objects and assets: the first 128 bits of the content's SHA-256, quoted.
export const etagOf = (sha256: string) => `"${sha256.slice(0, 32)}"`;
