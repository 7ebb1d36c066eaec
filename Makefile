# ipclab - build out of tree in build/. `make help` lists the targets.
#   V=1                  show full commands
#   WERROR=1             warnings are errors (make check sets it)
#   SANITIZE=address,undefined   build with sanitizers
#   FULL=1               make bench: the full matrix (repeats), not the quick one

BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config
WERROR  ?=
SANITIZE ?=
FULL    ?=

# -Wno-missing-field-initializers: tables are written with designated initializers
# ({ .name = ..., .off = ... }); members left out are zero by definition.
CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
               -Wno-unused-parameter -Wno-missing-field-initializers -D_GNU_SOURCE -DLTTNG_UST_COMPAT_API_VERSION=1 \
               -fno-omit-frame-pointer -Isrc -Itrace
ifneq ($(WERROR),)
CFLAGS_BASE += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE)
LDFLAGS_SAN := -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS) -MMD -MP
# The app links no liblttng-ust: tracepoints use dynamic linkage (-ldl only).
APP_LIBS   := -ljansson -ldl -lpthread -lrt -lm
TP_LIBS    := -llttng-ust -ldl

ifeq ($(V),1)
Q :=
else
Q := @
endif

CORE_SRC := $(wildcard src/core/*.c) $(wildcard src/harness/*.c) $(wildcard src/ipc/*.c) $(wildcard src/ipc/transport/*.c) $(wildcard src/signal/*.c) \
            $(wildcard src/sync/*.c) $(wildcard src/task/*.c)
MAIN_SRC := src/main.c
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
TP_OBJ   := $(BUILD)/obj/trace/provider.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

IPCLAB   := $(BUILD)/bin/ipclab
CORELIB  := $(BUILD)/lib/libipclab-core.a
TPLIB    := $(BUILD)/lib/libipclab-tp.so

.PHONY: all help deps check unit integration trace-tests bench report lint clean
all: $(IPCLAB) $(TPLIB)

help:
	@echo "make            build $(IPCLAB) and the tracepoint provider $(TPLIB)"
	@echo "make check      install missing packages, build with WERROR=1, run every test"
	@echo "make bench      matrix (FULL=1: the full one) + trace-analysis speed + A/A check + effect rates + report"
	@echo "make report     deps + build + quick matrix traced + figures + report.html"
	@echo "make lint       cppcheck, clang-tidy (if installed), shellcheck and pyflakes3"
	@echo "make clean      remove $(BUILD)/"

deps:
	$(Q)scripts/deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(TP_OBJ): trace/provider.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (provider)")
	$(Q)$(CC) $(ALL_CFLAGS) -fpic -c -o $@ $<

$(CORELIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(IPCLAB): $(MAIN_OBJ) $(CORELIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(CORELIB) $(APP_LIBS)

$(TPLIB): $(TP_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -shared -Wl,--no-as-needed -o $@ $< $(TP_LIBS)

# ipclab-nop: the do-nothing program "ipclab task spawn --method posix_spawn" execs; static
# when the C library's libc.a is installed (else dynamic: the build says so).
NOP        := $(BUILD)/bin/ipclab-nop
NOP_STATIC := $(if $(filter /%,$(shell $(CC) -print-file-name=libc.a)),-static)
all: $(NOP)
$(NOP): src/task/helper/nop.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< ($(if $(NOP_STATIC),static,dynamic: no libc.a))")
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra $(if $(WERROR),-Werror) $(NOP_STATIC) -o $@ $<

# Syscall mocks of a unit test (-Wl,--wrap): TEST_LDFLAGS_<test name>.
TEST_LDFLAGS_test_sys := -Wl,--wrap=waitpid -Wl,--wrap=read -Wl,--wrap=write

$(BUILD)/tests/%: tests/unit/%.c $(CORELIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (test)")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_SAN) $(TEST_LDFLAGS_$*) -o $@ $< $(CORELIB) -lcmocka $(APP_LIBS)

# Analysis unit tests (tests/unit/test_ana_*.c): the babeltrace-free layer of src/analyze
# (all but the sink's glue) linked in directly, as ordinary objects.
ANA_BT_SRC  := src/analyze/plugin.c src/analyze/decode.c src/analyze/merge.c src/analyze/integrity.c
ANA_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(ANA_BT_SRC),$(wildcard src/analyze/*.c)))
ANA_UNIT_BIN := $(filter $(BUILD)/tests/test_ana_%,$(UNIT_BIN))
$(ANA_UNIT_BIN): $(BUILD)/tests/test_ana_%: tests/unit/test_ana_%.c $(ANA_LIB_OBJ) $(CORELIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (test)")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_SAN) -o $@ $< $(ANA_LIB_OBJ) $(CORELIB) -lcmocka $(APP_LIBS)

# make check: the README's test command, and what .ci/run calls.
check: deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 all $(UNIT_BIN)
	$(Q)tests/run-all $(BUILD)

unit: all $(UNIT_BIN)
	$(Q)tests/run-all --only unit $(BUILD)

integration: all
	$(Q)tests/run-all --only integration $(BUILD)

trace-tests: all
	$(Q)tests/run-all --only trace $(BUILD)

# make bench: the matrix (FULL=1: the full one) traced, the trace-analysis speed, the A/A check, the
# effect rates of the concurrency demos, the report.
bench: deps
	$(Q)scripts/make-report --bench $(if $(FULL),--full)

report: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/make-report

SHELL_SCRIPTS = $(shell grep -lE '^\#!.*bash' scripts/* bench/* tests/run-all tests/lib.sh tests/*/*.sh .ci/run 2>/dev/null)
PY_SCRIPTS    = $(shell grep -lE '^\#!.*python3' scripts/* bench/* tests/*/*.py 2>/dev/null)

lint:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem --suppress=unknownMacro -I src -I trace src
	$(Q)shellcheck -x $(SHELL_SCRIPTS)
	$(Q)pyflakes3 scripts/ipclab_tools tests/tools $(PY_SCRIPTS)
	$(Q)echo "lint: cppcheck, shellcheck and pyflakes3 clean"

# ---- babeltrace2 plugin "ipclab" (sink.ipclab.analyze): src/analyze/*.c plus the core's
# histogram code, compiled position-independent into the plugin (the core library's
# objects are not -fpic). Built by `all` when pkg-config finds babeltrace2; never with
# sanitizers (the plugin is loaded into an uninstrumented babeltrace2).
ANA_PLUGIN := $(BUILD)/lib/babeltrace2/plugins/babeltrace-plugin-ipclab.so
ANA_SRC    := $(wildcard src/analyze/*.c) src/core/hist.c
ANA_OBJ    := $(ANA_SRC:%.c=$(BUILD)/obj/pic/%.o)
HAVE_BT2   := $(shell $(PKG_CONFIG) --exists babeltrace2 jansson 2>/dev/null && echo yes)
BT2_CFLAGS := $(if $(HAVE_BT2),$(shell $(PKG_CONFIG) --cflags babeltrace2 jansson))
BT2_LIBS   := $(if $(HAVE_BT2),$(shell $(PKG_CONFIG) --libs babeltrace2 jansson))

.PHONY: analyze
all: $(if $(HAVE_BT2),$(ANA_PLUGIN))
analyze: $(ANA_PLUGIN)

$(BUILD)/obj/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (plugin)")
	$(Q)$(CC) $(filter-out -fsanitize=%,$(ALL_CFLAGS)) $(BT2_CFLAGS) -fpic -c -o $@ $<

$(ANA_PLUGIN): $(ANA_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $(ANA_OBJ) $(BT2_LIBS) -lm

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
