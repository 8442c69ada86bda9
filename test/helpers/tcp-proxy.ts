import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of a real server, so a test can cut a client's connection the
 * way a network does (both sockets destroyed at once, nothing flushed) without touching the
 * client's code.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  port = 0;
  cuts = 0;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((downstream) => {
      const upstream = connect(targetPort, targetHost);
      const pair: [Socket, Socket] = [downstream, upstream];
      proxy!.pairs.add(pair);
      const end = () => {
        downstream.destroy();
        upstream.destroy();
        proxy!.pairs.delete(pair);
      };
      for (const s of pair) {
        s.on('error', end);
        s.on('close', end);
      }
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = (server.address() as AddressInfo).port;
    return proxy;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** Destroys every relayed connection now. */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.cuts++;
  }

  close(): Promise<void> {
    this.cutAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
