#include "modules/media/upload_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/error.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::media {

namespace {

// Markup that has no business inside an image, audio or video file; each starts with '<'.
constexpr std::array<std::string_view, 9> kMarkers = {"<script", "<html",   "<?php",  "<iframe", "<body",
                                                      "<svg",    "<object", "<embed", "<meta"};
constexpr std::size_t kLongestMarker = 7;

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (validate::ascii::ToLower(text[i]) != prefix[i]) return false;
  }
  return true;
}

AppError IoError(const std::string& what) { return AppError::Internal(what + ": " + std::strerror(errno)); }

}  // namespace

struct UploadFile::Hasher {
  Hasher() : ctx(EVP_MD_CTX_new()) {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw AppError::Internal("SHA-256 init failed");
  }
  ~Hasher() { EVP_MD_CTX_free(ctx); }
  EVP_MD_CTX* ctx;
};

UploadFile::UploadFile(const std::string& dir, std::uint64_t max_bytes)
    : max_bytes_(max_bytes), hasher_(std::make_unique<Hasher>()) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw AppError::Internal("cannot create the media folder " + dir + ": " + ec.message());
  std::string templ = dir + "/.upload-XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0) throw IoError("cannot create an upload file in " + dir);
  path_ = name.data();
  ::fchmod(fd_, 0644);  // served by this process, readable by backups
}

UploadFile::~UploadFile() {
  if (fd_ >= 0) ::close(fd_);
  if (owned_ && !path_.empty()) ::unlink(path_.c_str());
}

void UploadFile::Write(std::string_view bytes) {
  if (fd_ < 0) throw AppError::Internal("write to a closed upload file");
  if (size_ + bytes.size() > max_bytes_) {
    throw AppError(ErrorCode::kPayloadTooLarge,
                   "The file is larger than the " + std::to_string(max_bytes_) + " bytes this server accepts.");
  }
  EVP_DigestUpdate(hasher_->ctx, bytes.data(), bytes.size());
  ScanMarkup(bytes);
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("writing an upload failed");
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
}

void UploadFile::ScanMarkup(std::string_view bytes) {
  if (markup_seen_) return;
  // A marker may straddle two chunks: look at the previous chunk's tail joined to this chunk's head.
  if (!scan_tail_.empty()) {
    std::string joint = scan_tail_ + std::string(bytes.substr(0, kLongestMarker));
    for (std::size_t at = joint.find('<'); at != std::string::npos && at < scan_tail_.size();
         at = joint.find('<', at + 1)) {
      for (auto m : kMarkers)
        markup_seen_ = markup_seen_ || StartsWithIgnoringCase(std::string_view(joint).substr(at), m);
    }
  }
  for (const char* p = bytes.data(); !markup_seen_;) {
    const std::size_t left = static_cast<std::size_t>(bytes.data() + bytes.size() - p);
    const void* hit = std::memchr(p, '<', left);
    if (!hit) break;
    p = static_cast<const char*>(hit);
    std::string_view rest(p, static_cast<std::size_t>(bytes.data() + bytes.size() - p));
    for (auto m : kMarkers) markup_seen_ = markup_seen_ || StartsWithIgnoringCase(rest, m);
    ++p;
  }
  const std::size_t keep = std::min(bytes.size(), kLongestMarker - 1);
  scan_tail_.assign(bytes.substr(bytes.size() - keep));
}

void UploadFile::Close() {
  if (fd_ < 0) return;
  if (::fsync(fd_) != 0) throw IoError("flushing an upload failed");
  ::close(fd_);
  fd_ = -1;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(hasher_->ctx, digest, &length);
  sha256_hex_ = crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

void UploadFile::MoveTo(const std::string& path) {
  if (::rename(path_.c_str(), path.c_str()) != 0) throw IoError("moving an upload to " + path + " failed");
  owned_ = false;
  path_ = path;
}

}  // namespace poste::media
