#!/usr/bin/python3
"""gen_data.py — makes the inputs of the Debian benchmarks in benchmarks/suite.txt.

Usage: gen_data.py corpus FILE [MB]   ~MB MiB (default 20) of log-like text (for bzip2)
       gen_data.py sql FILE [ROWS]    an SQL script (for sqlite3): ROWS order rows, then queries

Deterministic: uses its own LCG, never Python's random, so every machine and Python
version writes byte-identical files."""
import sys


class Lcg:
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        """a number in [0, n)"""
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.s >> 33) % n


WORDS = ("the of and to in is was for on that with as by at from his an were are which "
         "this be or has had not but first one their its new after who they have her "
         "she two been other when there all during into school time may years more most "
         "only over city some world would where later up such used many can state about "
         "national out known university united then made system group kernel buffer cache "
         "trace block branch return indirect dispatch region optimizer fragment hotpath").split()
HOSTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def corpus(path, mb):
    rng = Lcg(20240101)
    limit = mb << 20
    out, size, line_no = [], 0, 0
    with open(path, "w") as f:
        while size < limit:
            line_no += 1
            nwords = 3 + rng.next(12)
            # Zipf-like: small word indexes are much more frequent
            words = " ".join(WORDS[rng.next(1 + rng.next(len(WORDS)))] for _ in range(nwords))
            line = "%07d %02d:%02d:%02d %s[%d] %s status=%d bytes=%d\n" % (
                line_no, rng.next(24), rng.next(60), rng.next(60), HOSTS[rng.next(len(HOSTS))],
                1000 + rng.next(9000), words, (200, 200, 200, 304, 404, 500)[rng.next(6)],
                rng.next(100000))
            out.append(line)
            size += len(line)
            if len(out) >= 10000:
                f.write("".join(out))
                out = []
        f.write("".join(out))


def sql(path, rows):
    rng = Lcg(777)
    ncust, nprod = 5000, 400
    regions = ["north", "south", "east", "west", "central"]
    with open(path, "w") as f:
        w = f.write
        w("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, region TEXT);\n")
        w("CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL);\n")
        w("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, product INTEGER, "
          "qty INTEGER, day INTEGER);\n")
        w("BEGIN;\n")
        for i in range(ncust):
            w("INSERT INTO customers VALUES(%d,'cust%05d','%s');\n" % (i, i, regions[rng.next(5)]))
        for i in range(nprod):
            w("INSERT INTO products VALUES(%d,'prod%03d',%d.%02d);\n" % (i, i, 1 + rng.next(500), rng.next(100)))
        for i in range(rows):
            w("INSERT INTO orders VALUES(%d,%d,%d,%d,%d);\n" % (
                i, rng.next(ncust), rng.next(1 + rng.next(nprod)), 1 + rng.next(20), rng.next(365)))
        w("COMMIT;\n")
        w("CREATE INDEX orders_customer ON orders(customer);\n")
        w("SELECT c.region, count(*), sum(o.qty), printf('%.2f', sum(o.qty * p.price))\n"
          "  FROM orders o JOIN customers c ON c.id = o.customer JOIN products p ON p.id = o.product\n"
          "  GROUP BY c.region ORDER BY c.region;\n")
        w("SELECT o.product, sum(o.qty) AS q FROM orders o GROUP BY o.product ORDER BY q DESC, o.product LIMIT 5;\n")
        w("SELECT day / 30 AS month, count(DISTINCT customer) FROM orders GROUP BY month ORDER BY month;\n")
        w("SELECT c.name, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n\n"
          "  FROM customers c ORDER BY n DESC, c.id LIMIT 5;\n")
        w("SELECT count(*), sum(length(name)) FROM (SELECT c.name || '-' || p.name AS name\n"
          "  FROM orders o JOIN customers c ON c.id = o.customer JOIN products p ON p.id = o.product\n"
          "  WHERE o.qty > 15 ORDER BY name);\n")


def main(argv):
    if len(argv) >= 3 and argv[1] == "corpus":
        corpus(argv[2], int(argv[3]) if len(argv) > 3 else 20)
    elif len(argv) >= 3 and argv[1] == "sql":
        sql(argv[2], int(argv[3]) if len(argv) > 3 else 300000)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
