# The two commands the README gives: `make demo` and `make check`. Both
# install what is missing (scripts/install-deps.sh), configure and build.

BUILD_DIR ?= build
CMAKE_FLAGS ?=

.PHONY: all deps configure build check demo clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f $(BUILD_DIR)/build.ninja || \
	  cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD_DIR)

check: build
	@scripts/check.sh $(BUILD_DIR)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
