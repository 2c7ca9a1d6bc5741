// Types for msg_driver.mjs (shared by the Deno, Node and Bun parents).

/** Workload parameters, passed by compare.ts as one JSON argument. */
export interface Params {
  workload: "check" | "stream" | "pingpong" | "scaling" | "stall" | "sweep";
  count?: number;
  len?: number;
  memory?: boolean;
  warmup?: number;
  sizesMiB?: number[];
  repeats?: Record<string, number>;
  stallMs?: number;
  max?: number;
  sizes?: number[];
  budget?: number;
  minCount?: number;
  maxCount?: number;
  /** raw contender only: "data" or "onread" */
  mode?: "data" | "onread";
}

export type Result = Record<string, unknown>;

/** What a contender's parent must provide to the driver. */
export interface ParentChannel {
  /** Sends one message to the child (promise only if the API has one). */
  send(msg: unknown): void | Promise<void>;
  readonly childPid: number;
  /**
   * How this parent stops reading during the W5 stall: "pull" = stop pulling
   * the async iterator (event loop free), "block" = busy event loop (the only
   * option for callback/event APIs).
   */
  readonly stallKind: "pull" | "block";
  pause(): void;
  kill(): void;
  readonly exited: Promise<unknown>;
}

export function procMemory(pid: number): { rss: number; hwm: number };
export function resetPeak(pid: number): boolean;
export function childPids(ppid: number): number[];
export function median(values: number[]): number;
export function sleep(ms: number): Promise<void>;
export function printResult(result: Result): void;
export function runMain(main: (p: Params) => Promise<Result>): Promise<void>;

export class Driver {
  deliver(msg: unknown): void;
  close(reason: string): void;
  next(): Promise<unknown>;
  run(chan: ParentChannel, p: Params): Promise<Result>;
  finish(chan: ParentChannel): Promise<void>;
}
