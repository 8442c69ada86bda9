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
  /** Frozen connections' sockets, destroyed on close. */
  private readonly silent: Socket[] = [];
  cuts = 0;
  frozen = 0;

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

  /**
   * Stops relaying on every current connection while keeping both sockets open: to each end
   * the other falls silent, as behind a dead NAT entry. New connections are relayed as usual.
   */
  freezeAll(): void {
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
      this.silent.push(a, b);
    }
    this.pairs.clear();
    this.frozen += 1;
  }

  close(): Promise<void> {
    this.cutAll();
    for (const s of this.silent) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
