// The `workerd` npm package ships no types: its CommonJS export holds the binary's path as `default`.
declare module 'workerd' {
  const binPath: string | { default: string };
  export default binPath;
}
