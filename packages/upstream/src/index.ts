// A lean HTTP/1.1 client for the hot paths between our own processes (the gateway to its services, the functions
// service to its workerd runtimes): pooled keep-alive sockets, the request head written as one string, and a
// response parser that only frames the body. node:http's ClientRequest/IncomingMessage layers cost more than the
// exchange itself on small responses.
export { Cancel, type Cancellation } from './cancel.js';
export { UpstreamPool, type Connect, type UpstreamTarget } from './pool.js';
export { ChunkedDecoder } from './chunked.js';
export { pipeBody } from './body.js';
export { HeadReader, InvalidResponse, type ResponseHead } from './head.js';
export { fromIncoming, send, type UpstreamRequest, type UpstreamResponse } from './send.js';
