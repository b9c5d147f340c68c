// `npm run bench -- NAME`: runs one benchmark, single-threaded, in this process.
// A benchmark is a module exporting `run(): Promise<void>`; add yours to the map.
const benches: Readonly<Record<string, () => Promise<{ run(): Promise<void> }>>> = {
  scheduler: () => import("./scheduler.ts"),
  protocol: () => import("./protocol.ts"),
  federation: () => import("./federation.ts"),
  e2e: () => import("./e2e.ts"),
  ledger: () => import("./ledger.ts"),
};

const name = process.argv[2];
const load = name === undefined ? undefined : benches[name];
if (!load) {
  console.error(`usage: npm run bench -- NAME, with NAME one of: ${Object.keys(benches).join(", ")}`);
  process.exitCode = 2;
} else {
  await (await load()).run();
}
