# The stress payloads (guest-payloads/README.md), included by the top-level
# Makefile. `make payloads` builds each as a static glibc program NAME.elf
# and a static musl program NAME-musl.elf in build/payloads/, plus itlb-2m
# (text 2 MiB aligned so that it can live in large pages).

GP_DIR := guest-payloads
GP_OUT := $(BUILD)/payloads
GP_NAMES := tlb-sweep chase gups itlb ptchurn ptsparse tlb-prefetch shootdown
GP_LIB := $(GP_DIR)/lib/payload.c
GP_DEPS := $(GP_LIB) $(GP_DIR)/lib/payload.h $(GP_DIR)/payloads.mk
GP_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wformat=2 -Werror -static -I$(GP_DIR)/lib -I$(GP_DIR)
# p_align 2 MiB and code in its own segment: the ELF can be mapped with
# 2 MiB pages (Drepper 4.3, the /bin/ls example).
GP_2M_FLAGS := -DITLB_ALIGN_LOG2=21 -Wl,-z,max-page-size=0x200000 \
	-Wl,-z,common-page-size=0x200000 -Wl,-z,separate-code

GP_PLAIN := $(filter-out itlb,$(GP_NAMES))
GP_ITLB_SRCS := $(GP_DIR)/itlb.c $(GP_DIR)/itlb-code.S
GP_ITLB_DEPS := $(GP_ITLB_SRCS) $(GP_DIR)/itlb-code.h $(GP_DEPS)

PAYLOAD_BINS := $(GP_NAMES:%=$(GP_OUT)/%.elf) $(GP_NAMES:%=$(GP_OUT)/%-musl.elf) \
	$(GP_OUT)/itlb-2m.elf $(GP_OUT)/itlb-2m-musl.elf

.PHONY: payloads
payloads: $(PAYLOAD_BINS)

$(GP_PLAIN:%=$(GP_OUT)/%.elf): $(GP_OUT)/%.elf: $(GP_DIR)/%.c $(GP_DEPS)
	@mkdir -p $(dir $@)
	gcc $(GP_CFLAGS) -o $@ $< $(GP_LIB)

$(GP_PLAIN:%=$(GP_OUT)/%-musl.elf): $(GP_OUT)/%-musl.elf: $(GP_DIR)/%.c $(GP_DEPS)
	@mkdir -p $(dir $@)
	musl-gcc $(GP_CFLAGS) -o $@ $< $(GP_LIB)

$(GP_OUT)/itlb.elf: $(GP_ITLB_DEPS)
	@mkdir -p $(dir $@)
	gcc $(GP_CFLAGS) -o $@ $(GP_ITLB_SRCS) $(GP_LIB)

$(GP_OUT)/itlb-musl.elf: $(GP_ITLB_DEPS)
	@mkdir -p $(dir $@)
	musl-gcc $(GP_CFLAGS) -o $@ $(GP_ITLB_SRCS) $(GP_LIB)

$(GP_OUT)/itlb-2m.elf: $(GP_ITLB_DEPS)
	@mkdir -p $(dir $@)
	gcc $(GP_CFLAGS) $(GP_2M_FLAGS) -o $@ $(GP_ITLB_SRCS) $(GP_LIB)

$(GP_OUT)/itlb-2m-musl.elf: $(GP_ITLB_DEPS)
	@mkdir -p $(dir $@)
	musl-gcc $(GP_CFLAGS) $(GP_2M_FLAGS) -o $@ $(GP_ITLB_SRCS) $(GP_LIB)
