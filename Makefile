# The two commands of the Quickstart:
#   make run    install what is missing, build, run one ETL run with the default configuration
#   make test   install what is missing, build, run the whole test suite through CTest
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
RUN_ARGS ?=

.PHONY: all setup build run test bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/covid-etl run $(RUN_ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	bash bench/national.sh
	$(BUILD_DIR)/bench/csv_reader_bench

clean:
	rm -rf $(BUILD_DIR)
