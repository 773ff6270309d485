# vmm: `make` builds ./vmm; `make run` is the main job; `make check` runs
# every test (unit tests twice: plain and under ASan/UBSan).
# Sources are in src/LAYER/ (docs/design.md): the name vmm belongs to the
# binary users run.

CC := gcc
BUILD := build
NPROC := $(shell nproc 2>/dev/null || echo 2)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Werror
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(WARN) -iquote src -MMD -MP
CFLAGS := $(CFLAGS_BASE) -O2
SAN_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LIBS := -lelf -ljson-c -lpfm -lseccomp -lm
# vmm itself is linked statically where every archive is installed: the
# dynamic loader's work for these libraries (libpfm4's event tables alone
# are 42000 relocations) was about 1.5 ms of start-up, half the bare-KVM
# floor (bench/vmm-costs). Without the archives it links dynamically.
VMM_STATIC_LIBS := elf json-c pfm seccomp z
VMM_STATIC := $(if $(strip $(foreach l,$(VMM_STATIC_LIBS),\
	$(if $(filter /%,$(shell $(CC) -print-file-name=lib$(l).a)),,$(l)))),,-static)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

LAYERS := util guest kernel kvm counters vm report cli
SRCS := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c) $(wildcard src/$(l)/*.S))
LIB_SRCS := $(filter-out src/cli/main.c,$(SRCS))
objs_of = $(patsubst %.S,$(1)/%.o,$(patsubst %.c,$(1)/%.o,$(2)))
OBJS := $(call objs_of,$(BUILD),$(SRCS))
LIB_OBJS := $(call objs_of,$(BUILD),$(LIB_SRCS))
SAN_LIB_OBJS := $(call objs_of,$(BUILD)/asan,$(LIB_SRCS))

# What `vmm --version` and every JSON report say vmm is. The stamp changes
# only when they do, so a new commit rebuilds version.o and nothing else.
VMM_VERSION := $(or $(shell cat VERSION 2>/dev/null),unknown)
VMM_COMMIT := $(or $(shell git describe --always --dirty --abbrev=12 2>/dev/null),unknown)
VERSION_DEFS := -DVMM_VERSION='"$(VMM_VERSION)"' -DVMM_COMMIT='"$(VMM_COMMIT)"'
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD); echo '$(VMM_VERSION) $(VMM_COMMIT)' | cmp -s - $(VERSION_STAMP) || \
	echo '$(VMM_VERSION) $(VMM_COMMIT)' > $(VERSION_STAMP))
VERSION_OBJS := $(BUILD)/src/util/version.o $(BUILD)/asan/src/util/version.o \
	$(BUILD)/fuzz/src/util/version.o
$(VERSION_OBJS): $(VERSION_STAMP)
$(VERSION_OBJS): CFLAGS += $(VERSION_DEFS)
$(VERSION_OBJS): SAN_CFLAGS += $(VERSION_DEFS)
$(VERSION_OBJS): FUZZ_CFLAGS += $(VERSION_DEFS)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
SAN_UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/unit/%)
E2E_SRCS := $(wildcard tests/e2e/test_*.c)
E2E_BINS := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/e2e/%)

# Small programs the end-to-end tests run, each built with glibc and musl.
TPAY_SRCS := $(wildcard tests/payloads/*.c)
TPAY_NAMES := $(TPAY_SRCS:tests/payloads/%.c=%)
TPAY_BINS := $(TPAY_NAMES:%=$(BUILD)/tests/payloads/%-glibc-static.elf) \
	$(TPAY_NAMES:%=$(BUILD)/tests/payloads/%-musl-static.elf) \
	$(BUILD)/tests/payloads/memtest-glibc-static-pie.elf
PAYLOAD_CFLAGS := -O2 -g -Wall -Wextra -Werror -static

.PHONY: all deps run check check-nested layers format format-check unit unit-asan e2e test-payloads \
	payloads clean fuzz fuzz-build fuzz-smoke
all: vmm

deps:
	@scripts/deps.sh

vmm: $(OBJS)
	$(CC) $(VMM_STATIC) -o $@ $^ $(LIBS) $(if $(VMM_STATIC),-lz)

# The VMM itself under ASan/UBSan, for tests/e2e/test_sanitized.c.
SAN_OBJS := $(call objs_of,$(BUILD)/asan,$(SRCS))
$(BUILD)/asan/vmm: $(SAN_OBJS)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

# The VMM under ThreadSanitizer (clang), for scripts/tsan.sh: its vCPU
# threads share the process, the futex table and the shootdown state.
TSAN_CC := clang
TSAN_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=thread \
	-Wno-gnu-variable-sized-type-not-at-end
TSAN_OBJS := $(call objs_of,$(BUILD)/tsan,$(SRCS))
$(BUILD)/tsan/vmm: $(TSAN_OBJS)
	$(TSAN_CC) -fsanitize=thread -o $@ $^ $(LIBS)

$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(TSAN_CC) $(TSAN_CFLAGS) -c -o $@ $<

$(BUILD)/tsan/%.o: %.S
	@mkdir -p $(dir $@)
	$(TSAN_CC) -iquote src -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -iquote src -MMD -MP -c -o $@ $<

$(BUILD)/asan/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -iquote src -MMD -MP -c -o $@ $<

# vmm's seccomp filter, compiled from its policy by libseccomp at build
# time (src/vm/seccomp_gen/, which the layer wildcard above does not see):
# doing it at each start-up cost about 0.35 ms. The ASan build allows the
# few calls LeakSanitizer makes, so it has a filter of its own.
$(BUILD)/gen/seccomp_gen: src/vm/seccomp_gen/seccomp_gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lseccomp

$(BUILD)/asan/gen/seccomp_gen: src/vm/seccomp_gen/seccomp_gen.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $< -lseccomp

$(BUILD)/gen/vm/seccomp_filter.inc $(BUILD)/asan/gen/vm/seccomp_filter.inc: %/vm/seccomp_filter.inc: %/seccomp_gen
	@mkdir -p $(dir $@)
	ASAN_OPTIONS=detect_leaks=0 $< > $@.tmp && mv $@.tmp $@

SECCOMP_OBJS := $(BUILD)/src/vm/seccomp.o $(BUILD)/tsan/src/vm/seccomp.o $(BUILD)/fuzz/src/vm/seccomp.o
$(SECCOMP_OBJS): $(BUILD)/gen/vm/seccomp_filter.inc
$(SECCOMP_OBJS): CFLAGS += -iquote $(BUILD)/gen
$(SECCOMP_OBJS): TSAN_CFLAGS += -iquote $(BUILD)/gen
$(SECCOMP_OBJS): FUZZ_CFLAGS += -iquote $(BUILD)/gen
$(BUILD)/asan/src/vm/seccomp.o: $(BUILD)/asan/gen/vm/seccomp_filter.inc
$(BUILD)/asan/src/vm/seccomp.o: SAN_CFLAGS += -iquote $(BUILD)/asan/gen

# The guest's vDSO: a freestanding shared object (src/guest/vdso/, which
# the layer wildcard above does not see), embedded by guest/vdso_image.S.
VDSO_SO := $(BUILD)/vdso/vdso.so
VDSO_CFLAGS := -std=c11 -O2 -g $(WARN) -iquote src -MMD -MP -fPIC -ffreestanding \
	-fno-stack-protector -fno-builtin -fno-common -fcf-protection=none
VDSO_LDFLAGS := -nostdlib -shared -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both \
	-Wl,--no-undefined -Wl,-Bsymbolic -Wl,-z,max-page-size=4096 -Wl,--build-id=sha1

$(BUILD)/vdso/vdso.lds: src/guest/vdso/vdso.lds.S src/guest/vvar.h
	@mkdir -p $(dir $@)
	$(CC) -E -P -x c -D__ASSEMBLER__ -iquote src -o $@ $<

$(BUILD)/vdso/vdso.so.dbg: src/guest/vdso/vdso.c $(BUILD)/vdso/vdso.lds
	$(CC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) -Wl,-T,$(BUILD)/vdso/vdso.lds -o $@ $<

$(VDSO_SO): $(BUILD)/vdso/vdso.so.dbg
	objcopy --strip-debug $< $@

$(BUILD)/src/guest/vdso_image.o $(BUILD)/asan/src/guest/vdso_image.o $(BUILD)/fuzz/src/guest/vdso_image.o \
		$(BUILD)/tsan/src/guest/vdso_image.o: src/guest/vdso_image.S $(VDSO_SO)
	@mkdir -p $(dir $@)
	$(CC) -iquote src -MMD -MP -DVDSO_SO='"$(VDSO_SO)"' -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LIBS) $(CHECK_LIBS)

$(BUILD)/asan/tests/unit/%: tests/unit/%.c $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Itests/unit -o $@ $< $(SAN_LIB_OBJS) $(LIBS) $(CHECK_LIBS)

$(BUILD)/tests/e2e/%: tests/e2e/%.c tests/e2e/e2e.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< -ljson-c $(CHECK_LIBS)

# xz_mt is liblzma's threaded coder: a real multi-threaded compressor. Debian
# builds liblzma.a against glibc, yet it only calls what musl has too, so
# the musl build links the same archive and sees just the lzma headers (not
# glibc's, which musl-gcc must not mix in).
LZMA_A := /usr/lib/$(shell gcc -print-multiarch)/liblzma.a
$(BUILD)/tests/payloads/xz_mt-glibc-static.elf: PAYLOAD_LIBS := -llzma -lpthread
$(BUILD)/tests/payloads/xz_mt-musl-static.elf: PAYLOAD_LIBS := -isystem $(BUILD)/musl-lzma $(LZMA_A)
$(BUILD)/tests/payloads/xz_mt-musl-static.elf: $(BUILD)/musl-lzma/lzma.h
$(BUILD)/musl-lzma/lzma.h: /usr/include/lzma.h
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/lzma.h /usr/include/lzma $(dir $@)

$(BUILD)/tests/payloads/%-glibc-static.elf: tests/payloads/%.c
	@mkdir -p $(dir $@)
	gcc $(PAYLOAD_CFLAGS) -o $@ $< $(PAYLOAD_LIBS)

$(BUILD)/tests/payloads/%-glibc-static-pie.elf: tests/payloads/%.c
	@mkdir -p $(dir $@)
	gcc $(PAYLOAD_CFLAGS:-static=-static-pie) -o $@ $<

$(BUILD)/tests/payloads/%-musl-static.elf: tests/payloads/%.c
	@mkdir -p $(dir $@)
	musl-gcc $(PAYLOAD_CFLAGS) -o $@ $< $(PAYLOAD_LIBS)

test-payloads: $(TPAY_BINS)

# libFuzzer harnesses (tests/fuzz/): the library built again with clang,
# ASan and UBSan and the fuzzer's coverage. `make fuzz FUZZ_SECONDS=N` runs
# each for N seconds; make check replays tests/fuzz/regressions/ and runs
# each for FUZZ_SMOKE_SECONDS.
FUZZ_CC := clang
FUZZ_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -Wno-gnu-variable-sized-type-not-at-end
FUZZ_NAMES := elf syscall config events
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_LIB_OBJS := $(call objs_of,$(BUILD)/fuzz,$(LIB_SRCS))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
.SECONDARY: $(FUZZ_LIB_OBJS)

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/%.o: %.S
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -iquote src -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)

# The generated seeds: bad_elves.h's files, syscall sequences, the musl test payloads.
$(BUILD)/fuzz/seeds.stamp: tests/fuzz/seeds.c tests/unit/bad_elves.h $(TPAY_BINS)
	@mkdir -p $(BUILD)/fuzz/seeds/elf $(BUILD)/fuzz/seeds/syscall
	$(CC) $(CFLAGS) -Itests/unit -o $(BUILD)/fuzz/gen-seeds $<
	$(BUILD)/fuzz/gen-seeds $(BUILD)/fuzz/seeds
	cp $(BUILD)/tests/payloads/*-musl-static.elf $(BUILD)/fuzz/seeds/elf/
	@touch $@

fuzz-build: $(FUZZ_BINS) $(BUILD)/fuzz/seeds.stamp

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)

# The bare-KVM floor programs that vmm's own costs are measured against.
$(BUILD)/bench/kvm_floor: bench/floor/kvm_floor.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 $(WARN) -o $@ $<

# The stress payloads and the benchmarks bring their own rules.
-include guest-payloads/payloads.mk
-include bench/bench.mk

unit: $(UNIT_BINS)
	@scripts/run-tests.sh $(UNIT_BINS)

unit-asan: $(SAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=0 scripts/run-tests.sh $(SAN_UNIT_BINS)

e2e: vmm $(BUILD)/asan/vmm test-payloads payloads $(E2E_BINS)
	@scripts/run-tests.sh $(E2E_BINS)

# One style for every C file (.clang-format); make check refuses drift.
FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format: $(words $(FORMAT_FILES)) files clean"

# The dependency rule between the layers of src/ (docs/design.md).
layers:
	@scripts/check-layers.py src

check: deps layers format-check
	@$(MAKE) --no-print-directory -j$(NPROC) all test-payloads payloads $(UNIT_BINS) $(SAN_UNIT_BINS) \
		$(E2E_BINS) $(BUILD)/asan/vmm fuzz-build
	@scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)
	@scripts/run-tests.sh $(UNIT_BINS) $(SAN_UNIT_BINS) $(E2E_BINS) bench/tests/run-tests tests/schema/run-schema-tests \
		scripts/nested/lane.sh

# The nested paging lane alone: vmm's tests on a real KVM for AMD (nested
# paging and shadow paging) inside QEMU's TCG emulator (README, Tests).
check-nested: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all test-payloads payloads $(E2E_BINS)
	@scripts/run-tests.sh scripts/nested/lane.sh

run: deps
	@$(MAKE) --no-print-directory -s -j$(NPROC) all payloads
	@scripts/main-job.sh

clean:
	rm -rf $(BUILD) vmm

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(BUILD)/vdso/vdso.so.d $(FUZZ_LIB_OBJS:.o=.d) $(TSAN_OBJS:.o=.d)
# Test binaries follow the shared test headers they include.
-include $(UNIT_BINS:=.d) $(SAN_UNIT_BINS:=.d) $(E2E_BINS:=.d)
