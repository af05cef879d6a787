#include "common/status.h"

namespace covid {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return 0;
    case ErrorKind::kInvalidData:
      return 2;
    case ErrorKind::kExtract:
      return 3;
    case ErrorKind::kLoad:
      return 4;
    case ErrorKind::kUsage:
      return 64;
    case ErrorKind::kInternal:
      return 70;
  }
  return 70;
}

const char* stage_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return "none";
    case ErrorKind::kInvalidData:
      return "validate";
    case ErrorKind::kExtract:
      return "extract";
    case ErrorKind::kLoad:
      return "load";
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace covid
