/** The controller machinery: contracts, errors, clock, workqueue, controller loop, manager, leader election. */
export * from "./types.ts";
export * from "./store.ts";
export * from "./recorder.ts";
export * from "./errors.ts";
export * from "./clock.ts";
export * from "./wait.ts";
export * from "./rate-limiter.ts";
export * from "./workqueue.ts";
export * from "./controller.ts";
export * from "./leader.ts";
export * from "./manager.ts";
