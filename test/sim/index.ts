/**
 * The deterministic simulation toolkit: one seed drives a whole cluster of real replicas in virtual
 * time. See each file's doc comment; runLoop.ts states the contract async code must keep.
 */
export { EventQueue, type EventHandle, type EventInfo, type EventObserver, type EventQueueOptions } from "./eventQueue";
export { FaultSchedule, type FaultCounters, type FaultPhase, type FaultScheduleOptions, type PartitionableNetwork } from "./faultSchedule";
export { SimNetwork, type Deliver, type LinkFaults, type NetworkCounters, type SimNetworkOptions } from "./network";
export { Prng } from "./prng";
export { runUntil, settle, type RunOptions, type RunResult, type StopReason } from "./runLoop";
export { checkFaults, describeFaults, drawFaults, PARTITION_KINDS, type DrawFaultsOptions, type PartitionKind, type SwarmFaults } from "./swarm";
export { Trace } from "./trace";
export { VirtualTimers, type TimerHandle, type Timers } from "./virtualTimers";
