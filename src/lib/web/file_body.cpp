#include "lib/web/file_body.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "lib/async/blocking.hpp"

namespace poste::web {

std::shared_ptr<FileBodySource> FileBodySource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<FileBodySource>(new FileBodySource(fd, static_cast<std::uint64_t>(st.st_size)));
}

FileBodySource::~FileBodySource() { ::close(fd_); }

void FileBodySource::SetRange(std::uint64_t offset, std::uint64_t length) {
  offset_ = offset;
  length_ = length;
  sent_ = 0;
}

boost::asio::awaitable<std::size_t> FileBodySource::Read(std::span<char> into) {
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), length_ - sent_));
  if (want == 0) co_return 0;
  const auto at = static_cast<off_t>(offset_ + sent_);
  // errno is per thread: the read reports it with its result.
  const auto [n, error] = co_await blocking([&] {
    ssize_t got;
    do {
      got = ::pread(fd_, into.data(), want, at);
    } while (got < 0 && errno == EINTR);
    return std::pair<ssize_t, int>(got, got < 0 ? errno : 0);
  });
  // A file that shrank under us cannot fill the Content-Length already promised: the connection must end.
  if (n <= 0) {
    throw std::runtime_error(std::string("reading a file body failed: ") +
                             (n < 0 ? std::strerror(error) : "the file is shorter than announced"));
  }
  sent_ += static_cast<std::uint64_t>(n);
  co_return static_cast<std::size_t>(n);
}

}  // namespace poste::web
