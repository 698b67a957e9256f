// A TCP proxy between a client under test and a real server, for faults the server will not
// make by itself: the connection cut after so many octets from the server (halfway through a
// message, halfway through a batch), or the server's octets trickled slowly.

import net from 'node:net';

export interface Proxy {
  port: number;
  /** Cut the next connection's (or the current one's) server-to-client stream after this many more octets; null: never. */
  cutAfter(octets: number | null): void;
  /** Send the server's octets at most this many per 100 ms; null: at full speed. */
  throttle(octetsPer100ms: number | null): void;
  /** Octets sent to the client in all. */
  readonly sent: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Client lines (commands) seen so far that match `pattern`. */
  commands(pattern: RegExp): number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  let cutLeft: number | null = null;
  let rate: number | null = null;
  let sent = 0;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  // The first 200 octets of each line the client sent (its commands), for commands().
  const lines: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    let partial = '';
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      const text = partial + d.toString('latin1');
      const parts = text.split('\n');
      partial = parts.pop()!.slice(0, 200);
      for (const line of parts) lines.push(line.slice(0, 200));
    });
    const queue: Buffer[] = [];
    let timer: NodeJS.Timeout | null = null;
    const pass = (d: Buffer) => {
      if (cutLeft !== null) {
        if (d.length >= cutLeft) {
          client.write(d.subarray(0, cutLeft));
          sent += cutLeft;
          cutLeft = null;
          cuts++;
          end();
          return;
        }
        cutLeft -= d.length;
      }
      sent += d.length;
      // Backpressure: the server waits while the client has not read what it was sent, so the
      // proxy holds no more than a socket's buffer (a test measuring memory measures the client).
      if (!client.write(d) && !upstream.isPaused()) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    };
    const drip = () => {
      timer = null;
      if (client.destroyed) return;
      let budget = rate ?? Infinity;
      while (queue.length && budget > 0) {
        const head = queue[0]!;
        const take = Math.min(head.length, budget);
        pass(head.subarray(0, take));
        budget -= take;
        if (take === head.length) queue.shift();
        else queue[0] = head.subarray(take);
      }
      if (queue.length) timer = setTimeout(drip, 100);
    };
    upstream.on('data', (d: Buffer) => {
      if (rate === null && queue.length === 0) return pass(d);
      queue.push(d);
      timer ??= setTimeout(drip, 100);
    });
    client.on('close', () => timer && clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAfter: (n) => (cutLeft = n),
    throttle: (n) => (rate = n),
    get sent() { return sent; },
    get cuts() { return cuts; },
    commands: (pattern) => lines.filter((l) => pattern.test(l)).length,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
