// Placeholder until issue 19's s3 destination lands (branch s25-b).
#include "publish/destination.h"

namespace covid {

Result<std::unique_ptr<Destination>> open_s3_destination(std::string_view) {
  return Status::Usage("publish: s3 destinations are not built yet");
}

}  // namespace covid
