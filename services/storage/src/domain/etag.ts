// One strong ETag for objects and assets, quoted: an object's version (new on every write, 128 random bits),
// an asset's content hash (the first 128 bits of its SHA-256).
export const etagOf = (hex: string) => `"${hex.slice(0, 32)}"`;
