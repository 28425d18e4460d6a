import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise<void>((closed) => server.close(() => closed()));
};

/** HTTP servers on loopback for one test file; call `closeAll` in its `afterEach`. */
export function loopbackServers() {
  const servers: Server[] = [];
  return {
    /** Starts a server answering with `listener`; its origin, `http://127.0.0.1:<port>`. */
    async listen(listener: RequestListener): Promise<string> {
      const server = createServer(listener);
      servers.push(server);
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /** A server started elsewhere (on loopback), closed with the others by `closeAll`. */
    add<S extends Server>(server: S): S {
      servers.push(server);
      return server;
    },
    /** Closes the server started last: a request to it is then refused. */
    closeLatest: async () => {
      const server = servers.pop();
      if (server) await close(server);
    },
    closeAll: async () => {
      await Promise.all(servers.splice(0).map(close));
    },
  };
}
