# The two commands of the Quickstart:
#   make run    install what is missing, build, run one ETL run with the default configuration,
#               then serve the dashboard on http://127.0.0.1:8080 (until Ctrl-C)
#   make test   install what is missing, build, run the whole test suite through CTest
# And what CI runs after it (.ci/run), each in a build folder of its own:
#   make test-asan              the whole suite again, built with AddressSanitizer and UBSan
#   make test-tsan              the daemon's and the server's tests, built with ThreadSanitizer
#   make fuzz SECONDS=30        every libFuzzer target for SECONDS seconds (CTest: fuzz.<target>)
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
RUN_ARGS ?=
SERVE_ARGS ?=

FUZZ_DIR ?= build-fuzz
SECONDS ?= 30
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
# The tests that run threads of ours: the daemon (scheduler, run thread, server), the server
# (two I/O threads) and the unit tests of the snapshot cache and the run manager.
TSAN_TESTS ?= ^(integration\.test_daemon\.|integration\.test_serve\.|unit\.Serve|unit\..*Threads\.)
# Sanitizer builds: gcc at -O1 (the usual compromise between speed and exact reports), shared
# libraries only (a static libstdc++ does not mix with the sanitizer runtimes).
SANITIZER_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCOVID_ETL_STATIC_DEPS=OFF -DCOVID_ETL_WERROR=OFF

.PHONY: all setup build run test package test-asan test-tsan bench fuzz clean format format-check

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# A failed run is reported, and the dashboard still serves what the database holds.
run: build
	@$(BUILD_DIR)/covid-etl run $(RUN_ARGS) || { status=$$?; echo "make run: the ETL run failed (exit $$status); serving what the database holds" >&2; \
	  [ $$status -ne 3 ] || echo "make run: without access to the upstream URLs, run from local files: make run RUN_ARGS=\"--nyt FILE --jhu FILE --states FILE\"" >&2; }
	exec $(BUILD_DIR)/covid-etl serve $(SERVE_ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The Debian package (cmake/package.cmake): $(BUILD_DIR)/covid-etl_VERSION_ARCH.deb, checked by
# lintian; install it with `sudo apt-get install ./$(BUILD_DIR)/covid-etl_*.deb`.
package: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target package_files
	cd $(BUILD_DIR) && cpack -G DEB
	lintian --fail-on error $(BUILD_DIR)/covid-etl_*.deb

# The whole suite, every binary built with AddressSanitizer, LeakSanitizer and UBSan; a finding
# is fatal (tests/CMakeLists.txt sets ASAN_OPTIONS and the others for every test).
test-asan: setup
	cmake -S . -B $(ASAN_DIR) $(SANITIZER_CMAKE) -DCOVID_ETL_SANITIZE=address,undefined
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS)

# The daemon's and the server's tests with ThreadSanitizer (only what they need is built).
test-tsan: setup
	cmake -S . -B $(TSAN_DIR) $(SANITIZER_CMAKE) -DCOVID_ETL_SANITIZE=thread
	cmake --build $(TSAN_DIR) -j $(JOBS) --target covid-etl unit_tests
	cd $(TSAN_DIR) && ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# bench/counties.sh: the county file (generated once into $(BUILD_DIR)/bench-data) against pandas,
# sqlite3 and DuckDB, then the CSV reader's Google Benchmark ($(BUILD_DIR)/bench/csv_reader_bench);
# bench/postgres_counties.sh: the same file into PostgreSQL, beside psql \copy.
bench: build
	bash bench/national.sh
	bash bench/serve.sh
	BIN=$(BUILD_DIR)/covid-etl bash bench/postgres.sh
	BIN=$(BUILD_DIR)/covid-etl BENCH_DATA=$(BUILD_DIR)/bench-data SCRATCH=$(BUILD_DIR)/bench/counties-scratch \
	  bash bench/counties.sh
	BIN=$(BUILD_DIR)/covid-etl BENCH_DATA=$(BUILD_DIR)/bench-data bash bench/postgres_counties.sh

# Every libFuzzer target for SECONDS seconds each, built with clang, ASan and UBSan, run as the
# CTest tests fuzz.<target> (two at a time with JOBS=2), then their execution counts.
fuzz: setup
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCOVID_ETL_FUZZ=ON -DCOVID_ETL_WERROR=OFF -DCOVID_ETL_STATIC_DEPS=OFF -DCOVID_ETL_FUZZ_SECONDS=$(SECONDS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_targets
	cd $(FUZZ_DIR) && { ctest --output-on-failure -j $(JOBS) -R '^fuzz\.'; status=$$?; \
	  grep -H "stat::number_of_executed_units" fuzz/*.log; exit $$status; }

clean:
	rm -rf $(BUILD_DIR)

# Formatting: every tracked C++ file as its .clang-format says (clang-format 14, Debian 12's).
# CI runs format-check first (formatting, and scripts/check_layers.py: no include against the
# layer order of README "The code"); `make format` rewrites the files in place.
CLANG_FORMAT ?= clang-format-14
format: setup
	git ls-files '*.cc' '*.h' | xargs $(CLANG_FORMAT) -i

format-check: setup
	git ls-files '*.cc' '*.h' | xargs $(CLANG_FORMAT) --dry-run -Werror
	python3 scripts/check_layers.py
