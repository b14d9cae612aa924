# SPDX-License-Identifier: BSD-2-Clause
#
# Host tests of the generic page-table code: kernel/mm/pt.c and pt_walk.c
# compiled for the host, with ASan and UBSan, against the scrambled fake
# architecture and the host stubs in tests/host/ (see
# tests/host/pt_host_test.c). One more case decodes arm64's range TLBI
# operands (arch/aarch64/tlbi_range.h, pure arithmetic). Needs only gcc.
#
# Standalone, from the repository root (or any directory, with the path):
#     make -f tools/host_test.mk                 # same as host-pt-test
#     make -f tools/host_test.mk host-pt-test
# From the main Makefile:
#     include tools/host_test.mk
# then `make host-pt-test` (or list host-pt-test as a prerequisite of test).
# HOST_PT_ARGS=name runs only the cases whose name contains `name`.
#
# Every variable here starts with HOST_PT_, so nothing clashes with the
# kernel build's CC/CFLAGS (which are freestanding and possibly a cross
# compiler); the fragment never becomes the including Makefile's default goal.

HOST_PT_MK := $(lastword $(MAKEFILE_LIST))
HOST_PT_ROOT := $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(HOST_PT_MK)))))
HOST_PT_SAVED_GOAL := $(.DEFAULT_GOAL)

HOST_PT_CC ?= gcc
HOST_PT_CFLAGS := -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -I$(HOST_PT_ROOT)
HOST_PT_ARGS ?=
HOST_PT_DIR := $(HOST_PT_ROOT)/build/host
HOST_PT_BIN := $(HOST_PT_DIR)/pt_host_test
HOST_PT_SRCS := $(HOST_PT_ROOT)/kernel/mm/pt.c $(HOST_PT_ROOT)/kernel/mm/pt_walk.c \
	$(sort $(wildcard $(HOST_PT_ROOT)/tests/host/*.c))
HOST_PT_DEPS := $(HOST_PT_SRCS) $(HOST_PT_MK) $(HOST_PT_ROOT)/arch/aarch64/tlbi_range.h \
	$(wildcard $(HOST_PT_ROOT)/tests/host/*.h $(HOST_PT_ROOT)/kernel/*.h \
		$(HOST_PT_ROOT)/kernel/mm/*.h $(HOST_PT_ROOT)/lib/*.h)
HOST_PT_Q := $(if $(filter 1,$(V)),,@)

.PHONY: host-pt-test host-pt-clean

host-pt-test: $(HOST_PT_BIN)
	$(HOST_PT_Q)$(HOST_PT_BIN) $(HOST_PT_ARGS)

$(HOST_PT_BIN): $(HOST_PT_DEPS)
	@mkdir -p $(HOST_PT_DIR)
	@echo "  HOSTCC  $@"
	$(HOST_PT_Q)$(HOST_PT_CC) $(HOST_PT_CFLAGS) $(HOST_PT_SRCS) -o $@

host-pt-clean:
	rm -rf $(HOST_PT_DIR)

# Included: leave the including Makefile's default goal alone.
ifneq ($(firstword $(MAKEFILE_LIST)),$(HOST_PT_MK))
.DEFAULT_GOAL := $(HOST_PT_SAVED_GOAL)
endif

# Host test of arch_mem_zero/arch_mem_copy for $(ARCH) (x86_64 when unset):
# the architecture's own assembly linked into a user program, native for
# x86-64, a static aarch64 program run by qemu-user (qemu-aarch64-static)
# for arm64.
HOST_MEM_ARCH := $(or $(ARCH),x86_64)
HOST_MEM_SRC := $(HOST_PT_ROOT)/tests/host/mem/mem_host_test.c
HOST_MEM_BIN := $(HOST_PT_DIR)/mem_$(HOST_MEM_ARCH)
HOST_MEM_CC_x86_64 := gcc
HOST_MEM_CC_aarch64 := aarch64-linux-gnu-gcc -static
HOST_MEM_RUN_aarch64 := qemu-aarch64-static
.PHONY: host-mem-test
host-mem-test: $(HOST_MEM_BIN)
	$(HOST_PT_Q)$(HOST_MEM_RUN_$(HOST_MEM_ARCH)) $(HOST_MEM_BIN)

$(HOST_MEM_BIN): $(HOST_MEM_SRC) $(HOST_PT_ROOT)/arch/$(HOST_MEM_ARCH)/mem.S
	@mkdir -p $(HOST_PT_DIR)
	@echo "  HOSTCC  $@"
	$(HOST_PT_Q)$(HOST_MEM_CC_$(HOST_MEM_ARCH)) -O2 -Wall -Wextra -Werror $^ -o $@

# Host test of the EFI stub's pure parts (arch/aarch64/efi/memmap.c and
# cmdline.c: the memory lists and the command line handed to the kernel),
# under ASan and UBSan like the page-table test; needs only gcc.
HOST_EFI_SRCS := $(HOST_PT_ROOT)/tests/host/efi/efi_stub_host_test.c \
	$(HOST_PT_ROOT)/arch/aarch64/efi/memmap.c $(HOST_PT_ROOT)/arch/aarch64/efi/cmdline.c
HOST_EFI_BIN := $(HOST_PT_DIR)/efi_stub_host_test
.PHONY: host-efi-test
host-efi-test: $(HOST_EFI_BIN)
	$(HOST_PT_Q)$(HOST_EFI_BIN)

$(HOST_EFI_BIN): $(HOST_EFI_SRCS) $(HOST_PT_ROOT)/arch/aarch64/efi/stub.h \
		$(HOST_PT_ROOT)/boot/efi.h $(HOST_PT_ROOT)/boot/efi_block.h
	@mkdir -p $(HOST_PT_DIR)
	@echo "  HOSTCC  $@"
	$(HOST_PT_Q)$(HOST_PT_CC) $(HOST_PT_CFLAGS) $(HOST_EFI_SRCS) -o $@

# Host test of the console's pure parts (kernel/shell/: line editor, parser,
# completion, command table) against stub handlers, under ASan and UBSan.
HOST_SHELL_SRCS := $(HOST_PT_ROOT)/tests/host/shell/shell_host_test.c \
	$(HOST_PT_ROOT)/tests/host/shell/shell_stubs.c \
	$(addprefix $(HOST_PT_ROOT)/kernel/shell/,line.c parse.c complete.c table.c) \
	$(HOST_PT_ROOT)/lib/words.c
HOST_SHELL_BIN := $(HOST_PT_DIR)/shell_host_test
.PHONY: host-shell-test
host-shell-test: $(HOST_SHELL_BIN)
	$(HOST_PT_Q)$(HOST_SHELL_BIN)

$(HOST_SHELL_BIN): $(HOST_SHELL_SRCS) $(HOST_PT_ROOT)/kernel/shell/shell.h \
		$(HOST_PT_ROOT)/tests/host/shell/shell_stubs.h $(HOST_PT_ROOT)/tests/host/check.h
	@mkdir -p $(HOST_PT_DIR)
	@echo "  HOSTCC  $@"
	$(HOST_PT_Q)$(HOST_PT_CC) $(HOST_PT_CFLAGS) $(HOST_SHELL_SRCS) -o $@

# Host test of the PS/2 keyboard's scancode translation (arch/x86_64/ps2kbd_map.c,
# pure), under ASan and UBSan.
HOST_KBD_SRCS := $(HOST_PT_ROOT)/tests/host/kbd/kbd_host_test.c \
	$(HOST_PT_ROOT)/arch/x86_64/ps2kbd_map.c
HOST_KBD_BIN := $(HOST_PT_DIR)/kbd_host_test
.PHONY: host-kbd-test
host-kbd-test: $(HOST_KBD_BIN)
	$(HOST_PT_Q)$(HOST_KBD_BIN)

$(HOST_KBD_BIN): $(HOST_KBD_SRCS) $(HOST_PT_ROOT)/arch/x86_64/ps2kbd.h $(HOST_PT_ROOT)/tests/host/check.h
	@mkdir -p $(HOST_PT_DIR)
	@echo "  HOSTCC  $@"
	$(HOST_PT_Q)$(HOST_PT_CC) $(HOST_PT_CFLAGS) $(HOST_KBD_SRCS) -o $@
