"""`make bench`: run every bench/bench_*.py in name order, each in its own process, and relay its figures.

Each module is a script that builds its own throw-away database and prints what it measured. A failing
module is reported and the rest still run; the exit status is non-zero if any failed.
`python bench/run.py tree import` runs only the modules whose names contain one of the words given.
"""

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main() -> int:
    words = sys.argv[1:]
    modules = [m for m in sorted(BENCH_DIR.glob("bench_*.py")) if not words or any(w in m.name for w in words)]
    if not modules:
        print("no bench/bench_*.py modules found")
        return 0
    failed = []
    for module in modules:
        print(f"== {module.name}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(module)], cwd=BENCH_DIR.parent)
        print(f"   ({module.name}: {time.perf_counter() - start:.1f} s, exit {result.returncode})\n", flush=True)
        if result.returncode != 0:
            failed.append(module.name)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
