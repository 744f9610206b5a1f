#include "modules/seo/seo_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "lib/ids.hpp"

namespace poste::seo {

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::filesystem::path target(path);
  const auto dir = target.parent_path();
  std::filesystem::create_directories(dir);
  const std::string temp = (dir / ("." + target.filename().string() + ".tmp-" + RandomHex(8))).string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  const char* failed = nullptr;
  int error = 0;
  std::size_t written = 0;
  while (!failed && written < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = "cannot write", error = n < 0 ? errno : EIO;
    } else {
      written += static_cast<std::size_t>(n);
    }
  }
  if (!failed && ::fsync(fd) != 0) failed = "cannot flush", error = errno;
  ::close(fd);
  if (!failed && ::rename(temp.c_str(), path.c_str()) != 0) failed = "cannot rename into", error = errno;
  if (failed) {
    ::unlink(temp.c_str());
    throw std::runtime_error(std::string(failed) + " " + path + ": " + std::strerror(error));
  }
  // The rename itself must reach the disk too.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace poste::seo
