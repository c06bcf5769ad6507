import type { Socket } from 'node:net';
import type { Session, SessionOutput } from './session.ts';

/**
 * Serves one connection on the event loop: every read goes through the
 * session, every reply goes back on the socket.
 *
 * Two protections, for one client's sake and everyone else's:
 * - a client that sends requests but never reads its replies would make its
 *   replies pile up in our memory: when the socket's write buffer is full we
 *   stop reading from it until it drains (backpressure);
 * - a socket error (the client vanished mid-request) ends that connection
 *   only.
 * While a BLPOP of this client waits, nothing more is read from it either.
 */
export function serveConnection(socket: Socket, session: Session, onClose?: () => void): void {
  socket.setNoDelay(true); // replies are small: send each at once
  const send = ({ bytes, close }: SessionOutput) => {
    if (socket.destroyed) return;
    const drained = bytes === null || socket.write(bytes);
    if (close) socket.end();
    else if (!drained) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    } else if (session.blocked) {
      socket.pause(); // a BLPOP waits: read nothing more until it is answered
    } else {
      socket.resume();
    }
  };
  session.onLater = send; // a blocked pop's reply, when it comes
  socket.on('data', (chunk: Buffer) => send(session.receive(chunk)));
  socket.on('error', () => socket.destroy());
  if (onClose) socket.on('close', onClose);
}
