// The start of a Server-Sent Events response, for every stream the server offers.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Takes the response over from Fastify and sends the head of an event stream (unbuffered by
 * proxies, written without Nagle's delay). Undefined, with the socket closed, when the client
 * left while its request was checked: the close event a stream would listen for has fired
 * already, so no stream may be opened.
 */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  headers: OutgoingHttpHeaders,
): ServerResponse | undefined {
  const raw = reply.raw;
  reply.hijack();
  if (request.raw.socket.destroyed) {
    raw.destroy();
    return undefined;
  }
  raw.writeHead(200, { ...headers, connection: 'keep-alive', 'x-accel-buffering': 'no' });
  raw.socket?.setNoDelay(true);
  return raw;
}
