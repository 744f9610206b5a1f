#pragma once
// The zero-setup transport: each message becomes an .eml file in a maildir (<dir>/tmp, <dir>/new), written
// to tmp/ and renamed into new/, so a reader never sees half a message. Nothing leaves the machine: a site
// without accounts "sends" here until someone configures a real account.
#include <filesystem>
#include <string>

#include "lib/mail/delivery.hpp"

namespace poste::mail {

class OutboxTransport : public Transport {
 public:
  // dir: the maildir (created on first use), e.g. <data.dir>/mail/outbox/<site_id>.
  explicit OutboxTransport(std::filesystem::path dir);

  // kSent with the file's name as the provider message id; kTemporary when the file cannot be written.
  DeliveryResult Send(const Delivery& delivery) override;
  // kSent when the maildir exists or can be created.
  DeliveryResult Check() override;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace poste::mail
