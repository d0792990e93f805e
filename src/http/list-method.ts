/**
 * Accepting the HTTP `LIST` method that Vault clients send, which Node's parser (llhttp) rejects.
 *
 * Each connection is wrapped in a Duplex whose inbound bytes pass through a request-framing
 * tracker. At a request start, the method token `LIST` becomes `LOCK` (a method llhttp accepts,
 * same length) and a genuine `LOCK` becomes `L0CK` (rejected, same length), so no length or
 * framing ever changes. The tracker follows framing exactly as llhttp does in strict mode for the
 * requests it understands; on anything ambiguous it stops rewriting for the rest of the
 * connection, so a disagreement can only leave a LIST un-rewritten (a 400), never move a request
 * boundary.
 *
 * `ListMethodIncomingMessage` then turns each rewritten LOCK back into `LIST`, counting rewrites
 * per connection, so a LOCK that reaches Node after the tracker stopped is never taken for a LIST.
 */
export { DEFAULT_MAX_SECTION_BYTES, ListMethodTracker, type ListMethodTrackerOptions } from './list-method/tracker.js';
export { ListMethodSocket, type ListMethodSocketOptions, type RawConnection } from './list-method/socket.js';
export {
  createListServer,
  isListRequest,
  ListMethodIncomingMessage,
  routeListAsLock,
  usesListIncomingMessage,
} from './list-method/incoming.js';
