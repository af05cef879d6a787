// Destination: where `covid-etl publish` writes the dashboard as static objects (issue 19), and
// the one interface the publisher sees, whatever the place: a folder (./site, file:///srv/site)
// or an S3 bucket (s3://BUCKET/PREFIX?region=R[&endpoint=URL], an S3-compatible server such as
// s3rver when endpoint is given). A destination adds its prefix to every key; keys are relative
// ("index.html", "data/3f9a....json") and never contain "..".
//
// The publisher keeps its manifest (the content hash of every object it wrote) in the
// destination itself, read with get() and written with put(), so a publish needs no listing to
// know what changed. put() stores one object whole (a folder: a temporary file renamed into
// place; S3: one PUT) so a reader sees the old object or the new one, never a part. Failures are
// Status values: kUsage for a malformed DEST, kExtract for an unreachable server or a refused
// request (bad credentials name the key id, never the secret). Messages show DEST redacted.
// put() and remove() may be called from parallelism() threads at once (the S3 destination:
// several requests in flight); get() and the rest from one thread. One publish at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace covid {

struct PublishedObject {
  std::string key;               // relative to the destination's prefix
  std::string body;              // the bytes as stored (gzip-compressed when encoding says so)
  std::string content_type;      // e.g. "application/json"
  std::string cache_control;     // e.g. "public, max-age=31536000, immutable"
  std::string content_encoding;  // "gzip" or empty
};

class Destination {
 public:
  virtual ~Destination() = default;

  // The object's stored bytes, or nullopt when there is no such object.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  virtual Status put(const PublishedObject& object) = 0;
  // Removing an object that does not exist is not an error.
  virtual Status remove(std::string_view key) = 0;
  // DEST as messages show it (no credentials).
  virtual std::string display() const = 0;
  // How many put() or remove() calls may run at once, each from its own thread.
  virtual size_t parallelism() const { return 1; }
  // Whether an object is stored as given, Content-Encoding and all (false: a folder, which
  // stores the bytes decompressed; the publisher then does not compress what it makes).
  virtual bool stores_encoding() const { return true; }
};

// Opens DEST: a folder path, file://PATH, or s3://BUCKET[/PREFIX][?region=R][&endpoint=URL]
// (region falls back to AWS_REGION / AWS_DEFAULT_REGION; credentials come from the usual AWS
// environment variables or the Lambda role's, as for DynamoDB).
Result<std::unique_ptr<Destination>> open_destination(std::string_view dest);

// Whether open_destination(dest) would open DEST, without writing or reading anything in it: its
// form (a folder path or file:///ABSOLUTE/PATH, not a file; S3's bucket, prefix and parameters)
// and, for S3, the credentials in the environment. The run, the daemon and the Lambda handler
// check [publish] to with it before a run (README "After a run").
Status check_destination(std::string_view dest);

// The two kinds, which open_destination dispatches to (folder_destination.cc, s3_destination.cc).
Result<std::unique_ptr<Destination>> open_folder_destination(std::string_view dest);
Result<std::unique_ptr<Destination>> open_s3_destination(std::string_view dest);

}  // namespace covid
