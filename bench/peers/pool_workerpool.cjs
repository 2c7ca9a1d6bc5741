// The worker of the workerpool runs of bench/pool_compare.ts.
const workerpool = require("workerpool");

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

workerpool.worker({ echo: (value) => value, fib });
