import { connect } from 'node:net';
import { frameMllp, MllpFramer } from '../core/hl7/index.ts';

/** Sends one HL7 v2 message over MLLP and resolves with the answer's payload (the ACK), or rejects. */
export function sendMllp(host: string, port: number, message: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const framer = new MllpFramer();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ACK from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err: Error | undefined, ack?: string) => {
      clearTimeout(timer);
      socket.end();
      if (err) reject(err);
      else resolve(ack!);
    };
    socket.on('connect', () => socket.write(frameMllp(message)));
    socket.on('data', (chunk: Buffer) => {
      for (const e of framer.push(chunk)) {
        if (e.kind === 'message') return finish(undefined, e.payload.toString('utf8'));
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`${host}:${port} closed the connection without an ACK`)));
  });
}

/** MSA-1 of an ACK (`AA`, `AE`, `AR`, `CA`, `CE`, `CR`), or undefined. */
export function ackCode(ack: string): string | undefined {
  const msa = ack.split(/\r\n?|\n/).find((s) => s.startsWith('MSA'));
  return msa?.split(msa[3] ?? '|')[1];
}
