#include "publish/destination.h"

namespace covid {

Result<std::unique_ptr<Destination>> open_destination(std::string_view dest) {
  if (dest.empty()) return Status::Usage("publish: --to needs a folder or s3://BUCKET/PREFIX");
  if (dest.starts_with("s3://")) return open_s3_destination(dest);
  return open_folder_destination(dest);
}

Status check_destination(std::string_view dest) {
  auto d = open_destination(dest);
  return d.ok() ? Status::Ok() : d.status();
}

}  // namespace covid
