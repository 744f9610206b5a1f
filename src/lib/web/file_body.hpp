#pragma once
// A response body streamed from a file, a byte range of it at a time, with every read on the blocking pool:
// a 100 MiB video is sent in 64 KiB chunks, never held whole. The file stays open for the response, so a
// file deleted meanwhile is still sent whole (its inode lives until closed).
#include <cstdint>
#include <memory>
#include <string>

#include "lib/web/body_source.hpp"

namespace poste::web {

class FileBodySource final : public BodySource {
 public:
  // Blocking (open + fstat): call it through co_await blocking(...). nullptr when the path is not a regular
  // file that can be opened for reading.
  static std::shared_ptr<FileBodySource> Open(const std::string& path);
  ~FileBodySource() override;
  FileBodySource(const FileBodySource&) = delete;
  FileBodySource& operator=(const FileBodySource&) = delete;

  std::uint64_t FileSize() const { return file_size_; }
  // Sends only [offset, offset + length) (the caller checked it lies within the file). Default: everything.
  void SetRange(std::uint64_t offset, std::uint64_t length);

  boost::asio::awaitable<std::size_t> Read(std::span<char> into) override;
  std::optional<std::uint64_t> Length() const override { return length_; }

 private:
  FileBodySource(int fd, std::uint64_t size) : fd_(fd), file_size_(size), length_(size) {}

  int fd_;
  std::uint64_t file_size_;
  std::uint64_t offset_ = 0;  // the next byte to send
  std::uint64_t length_;      // bytes of the range
  std::uint64_t sent_ = 0;
};

}  // namespace poste::web
