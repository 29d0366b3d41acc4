// Error responses written straight to a socket, where no framework answers: a WebSocket upgrade
// refused before `ws` takes the socket, a request Node's HTTP parser refused. The body is the
// error shape every other response uses, and the connection closes after it.
import { STATUS_CODES } from 'node:http';
import { errorBody, type ErrorCode } from '@switchboard/protocol';

export function rawErrorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const body = JSON.stringify(errorBody(code, message));
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: application/json\r\nConnection: close\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
