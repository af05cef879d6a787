// libFuzzer target: the configuration loader on any file: a Config or a usage error, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const std::string path =
      "/tmp/covid-etl-config-fuzz-" + std::to_string(getpid()) + ".toml";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes), std::streamsize(size));
  }
  auto c = covid::load_config_file(path, covid::Config());
  if (!c.ok() && c.status().kind() != covid::ErrorKind::kUsage) std::abort();
  return 0;
}
