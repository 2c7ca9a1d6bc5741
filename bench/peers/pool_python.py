"""One contender of bench/pool_compare.ts: Python's ProcessPoolExecutor(2).

    python3 pool_python.py echo [calls]

Prints one JSON line, { "ms": ... } for `calls` echo calls submitted at once.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait


def echo(value):
    return value


def run(executor, count):
    start = time.perf_counter()
    futures = [executor.submit(echo, {"i": i, "text": "hello"}) for i in range(count)]
    wait(futures)
    for future in futures:
        future.result()
    return (time.perf_counter() - start) * 1000


if __name__ == "__main__":
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    with ProcessPoolExecutor(2) as executor:
        run(executor, 2000)  # warm-up: start the workers
        ms = run(executor, calls)
    print(json.dumps({"ms": ms}))
