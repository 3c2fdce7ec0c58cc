"""Benchmarks of the Python package (not tests). Prints a Markdown table.

1. Single stock operations per second through the package, beside the same atomic operation
   written by hand with Python's sqlite3 module (BEGIN IMMEDIATE, check, update, insert
   history, commit), both on WAL files with the same `synchronous` setting. The two run in
   alternating rounds in one process, so that machine noise hits both alike. The hand-written
   loop runs with SQLite's defaults, as a user would write it, and under NORMAL also with the
   checkpoint threshold the engine sets there (ENGINE_AUTOCHECKPOINT), to show how much of the
   result is that setting. Ratios are given as the median of per-round ratios and as the ratio of total
   times (which counts the rare, long checkpoints fully).
2. The package's overhead over the engine: alternating add 1 / remove 1 through the package
   beside the same loop in Rust (bench/c/rust_ops.rs, `--rust-twin PATH`), in alternating
   rounds, fresh files each.
3. get_product per second from 2 threads against 1 thread: only possible above 1x if the GIL
   is released during the engine call. The CPU the process used per wall-clock second is
   printed beside it (on a busy machine 2 threads may not get 2 cores), and, with
   `--rust-reads PATH` (bench/python/rust_reads.rs), the same 1- and 2-thread reads straight
   from Rust in the same rounds: the ceiling that the engine and the machine allow.

Usage: python bench/python/bench.py [--rounds N] [--ops N] [--seconds S] [--dir DIR]
                                    [--rust-twin PATH] [--rust-reads PATH]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from decimal import Decimal

import inventory


# inventory::Durability::wal_autocheckpoint_pages: the engine's checkpoint threshold under
# NORMAL (under FULL it keeps SQLite's default, 1000).
ENGINE_AUTOCHECKPOINT = {"full": None, "normal": 10_000}


class HandWritten:
    """The minimal correct version of one stock removal in plain sqlite3: what the engine's
    single operation is compared against."""

    def __init__(self, path: str, synchronous: str, autocheckpoint: int | None = None):
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        if autocheckpoint is not None:
            self.db.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS inventory (
                product_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL CHECK (quantity >= 0),
                reserved INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS history (
                id INTEGER PRIMARY KEY, product_id TEXT NOT NULL, type TEXT NOT NULL,
                quantity INTEGER NOT NULL, quantity_after INTEGER NOT NULL,
                reference TEXT, notes TEXT, created_at TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS history_product ON history (product_id, id);
            """
        )
        self.db.execute(
            "INSERT OR REPLACE INTO inventory VALUES ('p1', 1000000000, 0, datetime('now'))"
        )

    def remove(self, quantity: int, reference: str) -> int:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            on_hand, reserved = db.execute(
                "SELECT quantity, reserved FROM inventory WHERE product_id = 'p1'"
            ).fetchone()
            if on_hand - reserved < quantity:
                raise ValueError("insufficient stock")
            after = on_hand - quantity
            db.execute(
                "UPDATE inventory SET quantity = ?, updated_at = datetime('now') "
                "WHERE product_id = 'p1'",
                (after,),
            )
            db.execute(
                "INSERT INTO history (product_id, type, quantity, quantity_after, reference, "
                "created_at) VALUES ('p1', 'OUT', ?, ?, ?, datetime('now'))",
                (quantity, after, reference),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return after - reserved


def per_second(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def single_ops(directory: str, durability: str, rounds: int, n: int):
    """Per-round rates of the engine, the hand-written loop and, where the engine changes the
    checkpoint threshold, the hand-written loop with that threshold, in alternating rounds."""
    synchronous = durability.upper()
    inv = inventory.Inventory(os.path.join(directory, f"engine-{durability}.db"),
                              durability=durability)
    pid = inv.create_product(name="Bench", sku="BENCH", price=Decimal("1.00"),
                             initial_quantity=10**9).id
    hand = HandWritten(os.path.join(directory, f"sqlite3-{durability}.db"), synchronous)
    subjects = [
        lambda i: inv.remove_stock(pid, 1, reference="R"),
        lambda i: hand.remove(1, "R"),
    ]
    if ENGINE_AUTOCHECKPOINT[durability] is not None:
        tuned = HandWritten(os.path.join(directory, f"sqlite3-tuned-{durability}.db"),
                            synchronous, ENGINE_AUTOCHECKPOINT[durability])
        subjects.append(lambda i: tuned.remove(1, "R"))
    for subject in subjects:  # warm up
        per_second(subject, n // 10)
    rates: list[list[float]] = [[] for _ in subjects]
    for r in range(rounds):
        order = list(range(len(subjects)))
        for k in order if r % 2 == 0 else reversed(order):
            rates[k].append(per_second(subjects[k], n))
    assert inv.verify().ok
    inv.close()
    return rates


def compare(a: list[float], b: list[float]) -> str:
    """a against b: the median of per-round rate ratios, and the ratio of total times."""
    per_round = statistics.median(x / y for x, y in zip(a, b))
    pooled = sum(1 / y for y in b) / sum(1 / x for x in a)
    return f"{per_round:.2f}x (total time {pooled:.2f}x)"


def twin(directory: str, rust: str, durability: str, rounds: int, n: int):
    """Alternating add/remove from Python beside the same loop from Rust."""
    py_rates, rs_rates = [], []
    for r in range(rounds):
        path = os.path.join(directory, f"twin-py-{durability}-{r}.db")
        with inventory.Inventory(path, durability=durability) as inv:
            pid = inv.create_product(name="Bench", sku="BENCH-PY", price=Decimal("1.00"),
                                     initial_quantity=1_000_000).id
            add, remove = inv.add_stock, inv.remove_stock
            py_rates.append(per_second(lambda i: remove(pid, 1) if i % 2 else add(pid, 1), n))
        out = subprocess.run(
            [rust, os.path.join(directory, f"twin-rs-{durability}-{r}.db"), durability, str(n)],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        rs_rates.append(float(out[-1]))
    return statistics.median(py_rates), statistics.median(rs_rates)


def reads(directory: str, rounds: int, seconds: float, rust_reads):
    path = os.path.join(directory, "reads.db")
    with inventory.Inventory(path) as inv:
        ids = [inv.create_product(name=f"P{i}", sku=f"P{i}", price="1.00",
                                  initial_quantity=10, location=f"L{i % 3}").id
               for i in range(100)]

        def run(threads: int) -> float:
            counts = [0] * threads
            stop = threading.Event()
            barrier = threading.Barrier(threads + 1)

            def worker(k: int) -> None:
                barrier.wait()
                n = 0
                while not stop.is_set():
                    inv.get_product(ids[n % 100])
                    n += 1
                counts[k] = n

            pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
            for t in pool:
                t.start()
            barrier.wait()
            start, cpu = time.perf_counter(), time.process_time()
            time.sleep(seconds)
            stop.set()
            for t in pool:
                t.join()
            wall = time.perf_counter() - start
            return sum(counts) / wall, (time.process_time() - cpu) / wall

        run(1)  # warm up
        one, two, rust = [], [], []
        for r in range(rounds):
            one.append(run(1))
            two.append(run(2))
            if rust_reads:
                out = subprocess.run(
                    [rust_reads, os.path.join(directory, f"rust-reads-{r}.db"), str(seconds)],
                    capture_output=True, text=True, check=True,
                ).stdout.split()
                rust.append((float(out[-2]), float(out[-1])))
    return one, two, rust


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--dir", default=None, help="where the database files go (a real disk)")
    parser.add_argument("--rust-twin", default=None,
                        help="the c_bench_rust binary (cargo build --release -p inventory-c "
                             "--example c_bench_rust)")
    parser.add_argument("--rust-reads", default=None,
                        help="the py_bench_reads binary (cargo build --release -p inventory-py "
                             "--example py_bench_reads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        print(f"files in {directory}; {args.rounds} rounds, medians\n")
        med = statistics.median
        print("| remove_stock (ops/s) | inventory package | hand-written sqlite3 | ratio "
              "| hand-written, engine's wal_autocheckpoint | ratio |")
        print("|---|---|---|---|---|---|")
        for durability in ("full", "normal"):
            rates = single_ops(directory, durability, args.rounds, args.ops)
            e, h = rates[0], rates[1]
            row = (f"| synchronous={durability.upper()} | {med(e):,.0f} | {med(h):,.0f} "
                   f"| {compare(e, h)} |")
            if len(rates) > 2:
                t = rates[2]
                row += f" {med(t):,.0f} ({ENGINE_AUTOCHECKPOINT[durability]}) | {compare(e, t)} |"
            else:
                row += " same as hand-written (1000) | |"
            print(row, flush=True)
        if args.rust_twin:
            print("\n| add/remove alternating | Python package | Rust engine | ratio |")
            print("|---|---|---|---|")
            for durability in ("full", "normal"):
                p, r = twin(directory, args.rust_twin, durability, args.rounds, args.ops)
                print(f"| synchronous={durability.upper()} (ops/s) | {p:,.0f} | {r:,.0f} "
                      f"| {p / r:.2f}x |", flush=True)
        one, two, rust = reads(directory, args.rounds, args.seconds, args.rust_reads)
        r1, r2 = med(x for x, _ in one), med(x for x, _ in two)
        c1, c2 = med(c for _, c in one), med(c for _, c in two)
        print("\n| get_product | 1 thread | 2 threads | ratio |\n|---|---|---|---|")
        print(f"| reads/s | {r1:,.0f} | {r2:,.0f} | {r2 / r1:.2f}x |")
        print(f"| CPU cores used | {c1:.2f} | {c2:.2f} | |")
        if rust:
            q1, q2 = med(a for a, _ in rust), med(b for _, b in rust)
            print(f"| same reads from Rust (reads/s) | {q1:,.0f} | {q2:,.0f} | {q2 / q1:.2f}x |")
        ratios = [round(b[0] / a[0], 2) for a, b in zip(one, two)]
        print(f"\nper-round Python read ratios: {ratios}; best {max(ratios)}")
        if rust:
            print(f"per-round Rust read ratios: {[round(b / a, 2) for a, b in rust]}")


if __name__ == "__main__":
    main()
