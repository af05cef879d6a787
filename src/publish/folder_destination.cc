// Placeholder until issue 19's folder destination lands (branch s25-a).
#include "publish/destination.h"

namespace covid {

Result<std::unique_ptr<Destination>> open_folder_destination(std::string_view) {
  return Status::Usage("publish: folder destinations are not built yet");
}

}  // namespace covid
