// A TCP relay between the desktop app and the server that a test can cut and mend, so the app
// loses its server while the server (and everyone else) carries on.

import net from "node:net";

/** Relays a port on loopback to `target` (http://host:port); returns its URL, cut and mend. */
export async function startRelay(target) {
  const { hostname, port } = new URL(target);
  const open = new Set();
  let cut = false;
  const relay = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(Number(port), hostname);
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      open.add(from);
      from.pipe(to);
      from.on("error", () => to.destroy());
      from.on("close", () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${relay.address().port}`,
    /** Drops every connection and refuses new ones: to the app, the server is gone. */
    cut: () => {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    mend: () => {
      cut = false;
    },
    close: () => {
      for (const socket of open) socket.destroy();
      relay.close();
    },
  };
}
