#pragma once
// One upload on its way to disk: a temporary file in the site's media folder (".upload-XXXXXX", a name no
// served file can have), written chunk by chunk while the SHA-256 is computed and the bytes are scanned for
// markup (polyglots). Past the size limit it throws 413. Whatever happens, the temporary file disappears with
// this object unless it was moved to its final name: no partial file is ever left behind.
//
// Every member blocks (file I/O): call it through co_await blocking(...).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace poste::media {

class UploadFile {
 public:
  // Creates `dir` if needed and the temporary file in it. Throws AppError 500 when it cannot.
  UploadFile(const std::string& dir, std::uint64_t max_bytes);
  ~UploadFile();
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;

  void Write(std::string_view bytes);
  // Flushes to stable storage and closes; sha256_hex() is valid after.
  void Close();
  // Renames the temporary file to `path` (same folder: atomic). The object no longer owns a file.
  void MoveTo(const std::string& path);

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  const std::string& sha256_hex() const { return sha256_hex_; }
  // Whether HTML or script markup ("<script", "<html", "<?php", ...) appeared anywhere in the bytes.
  bool markup_seen() const { return markup_seen_; }

 private:
  void ScanMarkup(std::string_view bytes);

  struct Hasher;
  std::string path_;
  int fd_ = -1;
  bool owned_ = true;
  std::uint64_t max_bytes_;
  std::uint64_t size_ = 0;
  std::unique_ptr<Hasher> hasher_;
  std::string sha256_hex_;
  std::string scan_tail_;  // the last bytes of the previous chunk, for markers split across chunks
  bool markup_seen_ = false;
};

}  // namespace poste::media
