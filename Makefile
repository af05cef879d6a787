# The two commands of the Quickstart:
#   make run    install what is missing, build, run one ETL run with the default configuration,
#               then serve the dashboard on http://127.0.0.1:8080 (until Ctrl-C)
#   make test   install what is missing, build, run the whole test suite through CTest
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
RUN_ARGS ?=
SERVE_ARGS ?=

FUZZ_DIR ?= build-fuzz
SECONDS ?= 30

.PHONY: all setup build run test bench fuzz clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# A failed run is reported, and the dashboard still serves what the database holds.
run: build
	@$(BUILD_DIR)/covid-etl run $(RUN_ARGS) || echo "make run: the ETL run failed (exit $$?); serving what the database holds" >&2
	exec $(BUILD_DIR)/covid-etl serve $(SERVE_ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# bench/counties.sh: the county file (generated once into $(BUILD_DIR)/bench-data) against pandas,
# sqlite3 and DuckDB, then the CSV reader's Google Benchmark ($(BUILD_DIR)/bench/csv_reader_bench).
bench: build
	bash bench/national.sh
	bash bench/serve.sh
	BIN=$(BUILD_DIR)/covid-etl bash bench/postgres.sh
	BIN=$(BUILD_DIR)/covid-etl BENCH_DATA=$(BUILD_DIR)/bench-data SCRATCH=$(BUILD_DIR)/bench/counties-scratch \
	  bash bench/counties.sh

# Every libFuzzer target for SECONDS seconds each, built with clang, ASan and UBSan.
fuzz: setup
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCOVID_ETL_FUZZ=ON -DCOVID_ETL_WERROR=OFF -DCOVID_ETL_STATIC_DEPS=OFF
	cmake --build $(FUZZ_DIR) --target fuzz_targets
	bash tests/fuzz/run.sh $(FUZZ_DIR) $(SECONDS)

clean:
	rm -rf $(BUILD_DIR)
