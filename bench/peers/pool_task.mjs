// The task of the piscina and tinypool runs of bench/pool_compare.ts: an
// echo of a small object, or fib(n).
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export default function task({ op, value, n }) {
  return op === "fib" ? fib(n) : value;
}
