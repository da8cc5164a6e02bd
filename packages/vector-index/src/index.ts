// The portable vector index the memory module and storage's vector buckets share: float32 bytes plus a sign-bit
// code per vector, ranked by Hamming distance (in Postgres, or in process for large sets) and rescored exactly.
export { cosineDistance, dot, euclideanDistance, fromBytes, normalize, signCode, toBytes } from './vectors.js';
export { absorb, CodeIndex, emptySet, nearest, packBits, wordsOf, type CodeSet } from './code-index.js';
