// Redirect answers: the Location header encoded as Express's res.redirect encoded it (encodeurl), so a site URL
// or redirect_to with spaces or non-ASCII characters still makes a valid header instead of a thrown error.
import type { FastifyReply } from 'fastify';

const UNSAFE = /(?:[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E]|%(?:[^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|$))+/g;
const LONE_SURROGATE = /(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uD800-\uDBFF]([^\uDC00-\uDFFF]|$)/g;

export const encodeLocation = (url: string) => url.replace(LONE_SURROGATE, '$1\uFFFD$2').replace(UNSAFE, encodeURI);

export const redirect = (reply: FastifyReply, status: 302 | 303, url: string) => reply.redirect(encodeLocation(url), status);
