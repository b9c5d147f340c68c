import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { TcpProxy } from "../../support/tcp-proxy.ts";

/** A loopback echo server: what a client sends comes back. */
async function echoServer(): Promise<{ server: Server; port: number; connections: () => number; sockets: Set<Socket> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections, sockets };
}

/** Connects, resolving once connected or rejecting on error. */
function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Sends `text` and waits for it to come back whole. */
function roundTrip(s: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const onData = (b: Buffer) => {
      got += b.toString();
      if (got.length >= text.length) {
        s.off("data", onData);
        resolve(got);
      }
    };
    s.on("data", onData);
    s.once("error", reject);
    s.write(text);
  });
}

/** Resolves when the socket is closed, with whether it saw an error (a reset) first. */
function closed(s: Socket): Promise<{ error: string | undefined }> {
  return new Promise((resolve) => {
    let error: string | undefined;
    s.on("error", (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    s.once("close", () => resolve({ error }));
  });
}

describe("the test TCP proxy (against a local echo server)", function () {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: TcpProxy;

  beforeEach(async function () {
    echo = await echoServer();
    proxy = await TcpProxy.start({ target: { port: echo.port } });
  });

  afterEach(async function () {
    await proxy.close();
    await new Promise((r) => echo.server.close(r));
  });

  it("forwards both ways on a loopback port, and counts connections and bytes", async function () {
    assert.match(proxy.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(proxy.port, echo.port);
    const s = await dial(proxy.port);
    assert.equal(await roundTrip(s, "hello sovereign"), "hello sovereign");
    const big = "x".repeat(256 * 1024);
    assert.equal((await roundTrip(s, big)).length, big.length);
    const c = proxy.counters;
    assert.equal(c.accepted, 1);
    assert.equal(c.open, 1);
    assert.equal(c.bytesUp, 15 + big.length);
    assert.equal(c.bytesDown, 15 + big.length);
    assert.equal(echo.connections(), 1);
    s.destroy();
    await waitFor(() => proxy.counters.open === 0, { what: "the pair to close when the client goes", timeoutMs: 5_000, intervalMs: 10 });
  });

  it("cut() drops open connections (a reset) and refuses new ones; heal() forwards again", async function () {
    const s = await dial(proxy.port);
    assert.equal(await roundTrip(s, "before"), "before");
    const gone = closed(s);
    proxy.cut();
    assert.ok(proxy.isCut);
    const { error } = await gone;
    assert.equal(error, "ECONNRESET", "the client sees the link die, not an orderly end");
    assert.equal(proxy.counters.cutConnections, 1);
    assert.equal(proxy.counters.open, 0);

    // A new connection while cut: reset at once, nothing reaches the target.
    const before = echo.connections();
    const refused = await dial(proxy.port).then(async (r) => (await closed(r)).error ?? "closed", (e: NodeJS.ErrnoException) => e.code);
    assert.ok(refused === "ECONNRESET" || refused === "closed" || refused === "ECONNREFUSED", String(refused));
    assert.equal(proxy.counters.refused, 1);
    assert.equal(echo.connections(), before, "nothing reached the target while cut");

    proxy.heal();
    assert.ok(!proxy.isCut);
    const again = await dial(proxy.port);
    assert.equal(await roundTrip(again, "after"), "after", "positive control: healed, it forwards again");
    assert.deepEqual([proxy.counters.cuts, proxy.counters.heals, proxy.counters.accepted], [1, 1, 2]);
    again.destroy();
  });

  it("closes the client's side when the target closes its side", async function () {
    const s = await dial(proxy.port);
    assert.equal(await roundTrip(s, "ping"), "ping");
    const gone = closed(s);
    for (const sock of echo.sockets) sock.destroy();
    await gone;
    await waitFor(() => proxy.counters.open === 0, { what: "the pair to be forgotten", timeoutMs: 5_000, intervalMs: 10 });
    assert.equal(proxy.counters.cutConnections, 0, "not a cut");
  });
});
