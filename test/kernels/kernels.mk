# How to compile the distance kernels (src/types/distance*.c) into a
# standalone program, outside PGXS: with PostgreSQL's own compiler and flags,
# the warnings the module's Makefile adds, and -O3 for the kernels as there,
# so that what is tested and timed is what the server runs.  The including
# Makefile sets ROOT (the top of the tree) first; KERNEL_OBJS land in its
# own directory.

PG_CONFIG ?= pg_config

CC := $(shell $(PG_CONFIG) --cc)
CPPFLAGS := -I$(ROOT)/src/include -I$(shell $(PG_CONFIG) --includedir-server)
CFLAGS := $(shell $(PG_CONFIG) --cflags) -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers -Werror
# pg_printf and friends, which c.h's printf macros call
LDLIBS := -L$(shell $(PG_CONFIG) --pkglibdir) -lpgport -lm

KERNEL_SRCS := $(sort $(wildcard $(ROOT)/src/types/distance*.c))
KERNEL_OBJS := $(notdir $(KERNEL_SRCS:.c=.o))
KERNEL_HEADERS := $(ROOT)/src/include/milvus/distance.h \
	$(ROOT)/src/include/milvus/half.h $(wildcard $(ROOT)/src/types/distance*.h)

$(KERNEL_OBJS): %.o: $(ROOT)/src/types/%.c $(KERNEL_HEADERS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O3 -c -o $@ $<
