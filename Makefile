# PGXS build of the milvus extension.
#
#   make && make install          build and install into the PostgreSQL found by $(PG_CONFIG)
#   make installcheck             pg_regress suite against a running server (PGHOST/PGPORT)
#   make bench                    the benchmark tool (test/bench/)
#   make fuzz                     libFuzzer targets (test/fuzz/, needs clang)
#   make kernel-test              distance kernels against a double-precision reference
#
# "make" and "make install" also build and install milvus_s3_restore, the
# restore_command for WAL archived to S3, and milvus_s3_basebackup, base backups
# in the bucket (src/storage/restore/, its own Makefile).
#
# Sources are picked up by folder: every src/**/*.c is part of the module and every
# src/sql/*.sql piece is concatenated, in name order, into the install script.

EXTENSION = milvus
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" milvus.control)

MODULE_big = milvus
SRCS = $(sort $(filter-out src/storage/restore/%,$(wildcard src/*.c src/*/*.c src/*/*/*.c)))
OBJS = $(SRCS:.c=.o)

SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = sql_build/$(EXTENSION)--$(EXTVERSION).sql

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src/include
# -Wextra on top of PostgreSQL's own warnings; the exceptions are idioms of
# PostgreSQL's headers and fmgr calling convention, not of our code.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Werror
SHLIB_LINK = -lm -lcurl -lcrypto -lzstd -llz4

EXTRA_CLEAN = sql_build test/kernels/kernel_test

# No LLVM bitcode: JIT inlining of our C functions buys nothing measurable, and
# it would make clang a build dependency with its own view of CPU features.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Rebuild an object when a header it includes changes (a kernel set built
# against an older MvKernelSet would hand out the wrong functions).
override CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

all: restore-program
install: install-restore-program
clean: clean-restore-program

.PHONY: restore-program install-restore-program clean-restore-program
restore-program:
	$(MAKE) -C src/storage/restore PG_CONFIG=$(PG_CONFIG)

install-restore-program: restore-program
	$(MAKE) -C src/storage/restore PG_CONFIG=$(PG_CONFIG) install

clean-restore-program:
	$(MAKE) -C src/storage/restore PG_CONFIG=$(PG_CONFIG) clean

$(DATA_built): $(SQL_PARTS) milvus.control
	@mkdir -p sql_build
	( printf '%s\n' "-- complain if script is sourced in psql, rather than via CREATE EXTENSION" \
	    '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit' ''; \
	  cat $(SQL_PARTS) ) > $@

# Distance kernels are the hot path: optimise them harder than the rest.
src/types/distance%.o: CFLAGS += -O3

.PHONY: bench fuzz kernel-test
bench:
	$(MAKE) -C test/bench PG_CONFIG=$(PG_CONFIG)

fuzz:
	$(MAKE) -C test/fuzz PG_CONFIG=$(PG_CONFIG)

kernel-test:
	$(MAKE) -C test/kernels PG_CONFIG=$(PG_CONFIG)
