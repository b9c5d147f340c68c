/** The controller machinery: contracts, errors, clock, workqueue, controller loop, manager, leader election. */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./clock.ts";
export * from "./wait.ts";
