#include "modules/mail/outbox_transport.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "lib/ids.hpp"

namespace poste::mail {

namespace {

DeliveryResult Outcome(DeliveryOutcome outcome, std::string answer, std::string id = {}) {
  DeliveryResult r;
  r.outcome = outcome;
  r.answer = std::move(answer);
  r.provider_message_id = std::move(id);
  return r;
}

// A maildir unique name: <seconds>.M<micros>P<pid>Q<counter>R<random>.poste
std::string UniqueName() {
  static std::atomic<std::uint64_t> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return std::to_string(micros / 1'000'000) + ".M" + std::to_string(micros % 1'000'000) + "P" +
         std::to_string(::getpid()) + "Q" + std::to_string(++counter) + "R" + RandomHex(4) + ".poste";
}

bool WriteAll(const std::filesystem::path& path, const std::string& bytes, std::string& why) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return why = std::strerror(errno), false;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (!synced) why = std::strerror(errno);
  return ::close(fd) == 0 && synced;
}

}  // namespace

OutboxTransport::OutboxTransport(std::filesystem::path dir) : dir_(std::move(dir)) {}

DeliveryResult OutboxTransport::Check() {
  std::error_code ec;
  for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(dir_ / sub, ec);
  if (ec) return Outcome(DeliveryOutcome::kTemporary, "the outbox cannot be created: " + ec.message());
  return Outcome(DeliveryOutcome::kSent, "outbox ready: messages are written to the server's data folder");
}

DeliveryResult OutboxTransport::Send(const Delivery& delivery) {
  if (!delivery.built) return Outcome(DeliveryOutcome::kPermanent, "nothing to send");
  auto ready = Check();
  if (ready.outcome != DeliveryOutcome::kSent) return ready;
  const std::string name = UniqueName() + ".eml";
  const auto tmp = dir_ / "tmp" / name, final_path = dir_ / "new" / name;
  std::string why;
  if (!WriteAll(tmp, delivery.built->bytes, why)) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return Outcome(DeliveryOutcome::kTemporary, "the outbox file could not be written: " + why);
  }
  std::error_code ec;
  if (delivery.on_commit && !delivery.on_commit()) {  // the point of no return is the rename into new/
    std::filesystem::remove(tmp, ec);
    return Outcome(DeliveryOutcome::kTemporary, "the delivery was withdrawn before the file was moved into new/");
  }
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) return Outcome(DeliveryOutcome::kTemporary, "the outbox file could not be moved: " + ec.message());
  return Outcome(DeliveryOutcome::kSent, "250 written to the outbox as " + name, name);
}

}  // namespace poste::mail
