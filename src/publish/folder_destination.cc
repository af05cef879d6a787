// The folder kind of Destination (destination.h): DEST is a path (./site, /srv/site) or
// file://PATH (file:///srv/site; file://localhost/srv/site). The folder is made on the first
// put(). A folder holds no HTTP headers, so an object stored gzip-compressed (content_encoding
// "gzip") is written decompressed: a plain static server (python3 -m http.server, nginx without
// any configuration) then serves every file correctly, and a server that compresses
// (nginx `gzip on`) compresses it on the way (README, "Publishing to a folder or S3").
//
// put() writes a temporary file (".NAME.tmp-PID" beside the object) and renames it into place,
// so a reader sees the old file or the new one; a key that is empty, absolute, or has an empty,
// "." or ".." segment or a backslash is refused (kUsage): nothing is ever written outside the
// folder. I/O failures are kExtract, naming the file.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "publish/destination.h"

namespace covid {
namespace {

namespace fs = std::filesystem;

Status check_key(std::string_view key) {
  bool bad = key.empty() || key.front() == '/' || key.find('\\') != std::string_view::npos ||
             key.find('\0') != std::string_view::npos;
  std::string_view rest = key;
  while (!bad) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") bad = true;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (bad) {
    return Status::Usage("publish: '" + std::string(key.substr(0, 200)) +
                         "' is not a relative object key (no '..', '.', empty segment or "
                         "leading '/')");
  }
  return Status::Ok();
}

// gzip (RFC 1952) to its bytes; false when the input is not a whole gzip stream.
bool gunzip(std::string_view in, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && z.avail_in == 0;
}

class FolderDestination : public Destination {
 public:
  explicit FolderDestination(fs::path root) : root_(std::move(root)) {}

  Result<std::optional<std::string>> get(std::string_view key) override {
    COVID_RETURN_IF_ERROR(check_key(key));
    fs::path path = root_ / std::string(key);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (ec) return Status::Extract("publish: cannot read " + path.string() + ": " + ec.message());
      return std::optional<std::string>();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Extract("publish: cannot read " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::Extract("publish: cannot read " + path.string());
    return std::optional<std::string>(std::move(ss).str());
  }

  Status put(const PublishedObject& object) override {
    COVID_RETURN_IF_ERROR(check_key(object.key));
    std::string plain;
    std::string_view body = object.body;
    if (object.content_encoding == "gzip") {
      if (!gunzip(object.body, &plain)) {
        return Status::Internal("publish: " + object.key + ": the body is not gzip");
      }
      body = plain;
    }
    fs::path path = root_ / object.key;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Extract("publish: cannot make the folder " + path.parent_path().string() +
                             ": " + ec.message());
    }
    fs::path tmp =
        path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(getpid()));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Extract("publish: cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    size_t done = 0;
    while (done < body.size()) {
      ssize_t n = ::write(fd, body.data() + done, body.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return Status::Extract("publish: cannot write " + tmp.string() + ": " + std::strerror(e));
      }
      done += size_t(n);
    }
    if (::close(fd) != 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      return Status::Extract("publish: cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      return Status::Extract("publish: cannot rename " + tmp.string() + " to " + path.string() +
                             ": " + std::strerror(e));
    }
    return Status::Ok();
  }

  Status remove(std::string_view key) override {
    COVID_RETURN_IF_ERROR(check_key(key));
    fs::path path = root_ / std::string(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::Extract("publish: cannot delete " + path.string() + ": " +
                             std::strerror(errno));
    }
    return Status::Ok();
  }

  std::string display() const override { return root_.string(); }
  bool stores_encoding() const override { return false; }

 private:
  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<Destination>> open_folder_destination(std::string_view dest) {
  std::string_view path = dest;
  if (path.starts_with("file://")) {
    path.remove_prefix(7);
    if (path.starts_with("localhost/")) path.remove_prefix(9);
    if (!path.starts_with("/")) {
      return Status::Usage("publish: '" + std::string(dest) +
                           "' is not file:///ABSOLUTE/PATH (or give the folder as a path)");
    }
  }
  if (path.empty()) return Status::Usage("publish: --to needs a folder or s3://BUCKET/PREFIX");
  if (path.find("://") != std::string_view::npos) {
    return Status::Usage("publish: '" + std::string(dest.substr(0, 200)) +
                         "' is not a folder, file://PATH or s3://BUCKET/PREFIX");
  }
  fs::path root{std::string(path)};
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    return Status::Usage("publish: " + root.string() + " exists and is not a folder");
  }
  return std::unique_ptr<Destination>(new FolderDestination(std::move(root)));
}

}  // namespace covid
