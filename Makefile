# hotpath — build, test, demo, bench. `make test` and `make demo` install what is missing
# (make deps) and build first, so both work on a fresh Debian 12 machine as root.

CC      ?= gcc
BUILD   := build
PREFIX  ?= /usr/local
WARN    := -Wall -Wextra -Werror=implicit-function-declaration
CFLAGS  := -O2 -g $(WARN) -Iinclude -Iruntime -Itraces -Ioptimizer
# The runtime: no libc, no SIMD (the app's vector state stays untouched outside the
# xsave-wrapped builder), hidden symbols.
RT_CFLAGS := $(CFLAGS) -fPIC -fvisibility=hidden -mgeneral-regs-only -fno-stack-protector \
             -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -fno-plt
RT_SRCS := $(wildcard runtime/*.c traces/*.c optimizer/*.c)
RT_ASM  := runtime/entry.S
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/%.o) $(RT_ASM:%.S=$(BUILD)/%.o)
INJ_SRCS := injector/hotpath.c injector/elf_check.c injector/bench.c injector/bench_run.c \
            injector/bench_report.c injector/bench_svg.c injector/bench_stats.c injector/bench_suite.c \
            optimizer/opt_parse.c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

APT_PKGS := gcc g++ make libzydis-dev libzycore-dev libelf-dev linux-libc-dev libcmocka-dev \
            $(shell cat tests/e2e/PACKAGES benchmarks/PACKAGES 2>/dev/null)

.PHONY: all deps test unit fuzz e2e e2e-programs e2e-debian e2e-cli e2e-traces e2e-bench demo \
        bench bench-peers bench-bounds install clean

all: $(BUILD)/bin/hotpath $(BUILD)/lib/libhotpath.so

# deps: apt-get install only what is missing (needs root; a no-op when all is there).
deps:
	@missing=""; for p in $(sort $(APT_PKGS)); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/runtime/%.o: runtime/%.c $(wildcard runtime/*.h traces/*.h optimizer/*.h optimizer/*.def include/hotpath/*)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

$(BUILD)/traces/%.o: traces/%.c $(wildcard runtime/*.h traces/*.h optimizer/*.h optimizer/*.def include/hotpath/*)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

$(BUILD)/optimizer/%.o: optimizer/%.c $(wildcard runtime/*.h optimizer/*.h optimizer/*.def include/hotpath/*)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

$(BUILD)/runtime/%.o: runtime/%.S runtime/thread_layout.h
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

$(BUILD)/lib/libhotpath.so: $(RT_OBJS) $(BUILD)/runtime/preload.o
	@mkdir -p $(dir $@)
	$(CC) -shared -nostdlib -Wl,-z,now -Wl,-z,noexecstack -Wl,--no-undefined -o $@ $^ -lZydis

$(BUILD)/lib/libhotpath_rt.a: $(RT_OBJS)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(BUILD)/bin/hotpath: $(INJ_SRCS) runtime/options.c $(wildcard injector/*.h include/hotpath/* optimizer/*.def optimizer/opt.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(INJ_SRCS) runtime/options.c -lm

# ---- tests ----
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/lib/libhotpath_rt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/lib/libhotpath_rt.a -lZydis -lcmocka

# Tests of the bench command's parts link that part of the injector, not the runtime (the
# shorter stem makes this rule win over the one above for test_bench_*).
$(BUILD)/tests/test_bench_%: tests/unit/test_bench_%.c injector/bench_%.c injector/bench_%.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iinjector -o $@ $< injector/bench_$*.c -lcmocka -lm

# The differential tester (tests/difftest/, issue #5): its generator and harness link into
# the cmocka test (3000 cases in `make unit`) and into the long fuzz run (`make fuzz`,
# FUZZ_SEED / FUZZ_COUNT / FUZZ_ARGS, e.g. FUZZ_ARGS="--opt none --keep-going").
DT_SRCS := $(wildcard tests/difftest/dt_*.c tests/difftest/dt_*.S)
DT_LIB_SRCS := $(filter-out tests/difftest/dt_fuzz.c,$(DT_SRCS))
DT_DEPS := $(DT_SRCS) $(wildcard tests/difftest/*.h) runtime/thread_layout.h $(BUILD)/lib/libhotpath_rt.a
FUZZ_SEED ?= 1
FUZZ_COUNT ?= 1000000

$(BUILD)/tests/test_difftest: tests/unit/test_difftest.c $(DT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/difftest -o $@ $< $(DT_LIB_SRCS) $(BUILD)/lib/libhotpath_rt.a -lZydis -lcmocka

$(BUILD)/tests/difftest_fuzz: $(DT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/difftest -o $@ $(DT_SRCS) $(BUILD)/lib/libhotpath_rt.a -lZydis

fuzz: $(BUILD)/tests/difftest_fuzz
	$(BUILD)/tests/difftest_fuzz $(FUZZ_ARGS) $(FUZZ_SEED) $(FUZZ_COUNT)

unit: all $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# Each case also runs with hotpath detaching every thread after 1 and 15 ms wherever the
# threads are, with every head becoming a trace at once (--threshold 1 and 2), and with the
# block cache alone, and with a 16 KiB trace cache flushed again and again
# (tests/e2e/run_*.sh: HOTPATH_VARIANTS).
e2e-programs: all
	HOTPATH_VARIANTS="--detach-after-ms 1;--detach-after-ms 15;--threshold 1;--threshold 2 --no-trip;--no-traces;--cache-size 16 --threshold 2" \
	  bash tests/e2e/run_programs.sh $(BUILD)/bin/hotpath $(BUILD)/e2e-programs

e2e-debian: all
	HOTPATH_VARIANTS="--detach-after-ms 20;--threshold 1;--threshold 2" \
	  bash tests/e2e/run_debian.sh $(BUILD)/bin/hotpath $(BUILD)/e2e-debian

e2e-cli: all
	bash tests/e2e/run_cli.sh $(BUILD)/bin/hotpath $(BUILD)/e2e-cli

e2e-traces: all
	bash tests/e2e/run_traces.sh $(BUILD)/bin/hotpath $(BUILD)/e2e-traces

e2e-bench: all
	bash tests/e2e/run_bench.sh $(BUILD)/bin/hotpath $(BUILD)/e2e-bench

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit e2e-cli e2e-traces e2e-bench e2e-programs e2e-debian

# ---- demo and benchmarks ----
demo: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(BUILD)/demo
	$(CC) -O2 -o $(BUILD)/demo/demo tests/demo/demo.c
	@echo "== native"; bash -c 'TIMEFORMAT="%R s"; time $(BUILD)/demo/demo 40'
	@echo "== under hotpath"; bash -c 'TIMEFORMAT="%R s"; time $(BUILD)/bin/hotpath run --stats-json $(BUILD)/demo/stats.json -- $(BUILD)/demo/demo 40'
	@echo "== statistics"; cat $(BUILD)/demo/stats.json

# BENCH_ARGS: more benchmarks/run.sh options, e.g. make bench BENCH_ARGS="--filter 'fib|xz' -n 3".
bench: deps
	@$(MAKE) --no-print-directory all
	bash benchmarks/run.sh $(BUILD)/bin/hotpath $(BUILD)/bench $(BENCH_ARGS)

# The suite under hotpath and the tools one would use instead (valgrind --tool=none,
# qemu-x86_64, DynamoRIO's drrun if DYNAMORIO_HOME is set), installed here, not by deps.
# They are slow (10-50x): 3 runs by default; BENCH_ARGS="-n 1 --filter ..." for less.
PEER_PKGS := valgrind qemu-user
bench-peers: deps
	@$(MAKE) --no-print-directory deps APT_PKGS="$(PEER_PKGS)"
	@$(MAKE) --no-print-directory all
	bash benchmarks/run.sh $(BUILD)/bin/hotpath $(BUILD)/bench-peers --peers -n 3 $(BENCH_ARGS)

# Upper bounds of the -O0 figure: the suite with unsafe patched builds beside the real one
# (benchmarks/bounds/: each patch drops one of the optimizer's memory rules; never used).
bench-bounds: deps
	@$(MAKE) --no-print-directory all
	bash benchmarks/bounds/run.sh $(BUILD)/bin/hotpath $(BUILD)/bench-bounds -n 3 $(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(BUILD)/bin/hotpath $(DESTDIR)$(PREFIX)/bin/hotpath
	install -m 644 $(BUILD)/lib/libhotpath.so $(DESTDIR)$(PREFIX)/lib/libhotpath.so

clean:
	rm -rf $(BUILD)
