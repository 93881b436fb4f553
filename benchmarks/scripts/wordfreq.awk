# wordfreq.awk — the gawk benchmark of benchmarks/suite.txt: over the generated corpus
# (lines "NNNNNNN hh:mm:ss host[pid] words... status=S bytes=B"), counts words, hosts and
# status codes, sums the bytes, and prints the 20 most frequent words in an order fixed by
# gawk's sorted traversal (ties by the word), so stdout is deterministic.
{
    for (i = 4; i <= NF - 2; i++) words[$i]++
    h = $3
    sub(/\[.*/, "", h)
    host[h]++
    status[$(NF - 1)]++
    split($NF, kv, "=")
    bytes += kv[2]
}
END {
    PROCINFO["sorted_in"] = "@val_num_desc"
    n = 0
    for (w in words) { printf "%s %d\n", w, words[w]; if (++n == 20) break }
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (h in host) printf "host %s %d\n", h, host[h]
    for (s in status) printf "%s %d\n", s, status[s]
    printf "lines %d bytes %d\n", NR, bytes
}
