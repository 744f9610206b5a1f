#pragma once
// From a mail account to the Transport that sends through it: the one switch on the account's type.
//
// SMTP, Gmail and Outlook (SMTP with STARTTLS and XOAUTH2 on smtp.gmail.com:587 / smtp.office365.com:587, or
// the account's smtp_host / smtp_port, under smtp_policy like SMTP accounts) and the local outbox are built
// here. SendGrid, Amazon SES and the OAuth2 access tokens of Gmail / Outlook come from
// lib/mail's provider transports, plugged in through TransportSettings' hooks when the app is wired; a hook
// left empty makes a transport that answers every Send and Check with a permanent "type not available yet".
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/mail/delivery.hpp"
#include "lib/net/target_policy.hpp"
#include "modules/mail/mail_account_types.hpp"

namespace poste::mail {

struct TransportSettings {
  std::string outbox_root;        // <data.dir>/mail/outbox; a site's maildir is <outbox_root>/<site_id>
  net::TargetPolicy smtp_policy;  // which SMTP servers accounts may reach (SmtpTargetPolicy + mail.smtp_allow_targets)
  std::string helo_name = "localhost";
  std::chrono::milliseconds smtp_connect_timeout{10000};
  std::chrono::milliseconds smtp_total_timeout{120000};
  std::string tls_ca_file;  // mail.tls_ca_file: a private CA for SMTP servers' certificates ("": the system's)

  // --- provider hooks: the lead wires lib/mail/sendgrid.*, ses.* and oauth2.* here ---
  // A transport for a "sendgrid" / "ses" account (settings and opened secrets in `account`).
  std::function<std::unique_ptr<Transport>(const Account& account)> sendgrid;
  std::function<std::unique_ptr<Transport>(const Account& account)> ses;
  // A fresh OAuth2 access token for a "gmail" / "outlook" account (from its refresh token); throws
  // std::runtime_error with the token endpoint's answer when it cannot.
  // `fresh`: the server refused the last token; do not answer from a cache. Throws OAuth2Error when the token
  // endpoint refuses (a revoked grant fails the message at once).
  std::function<std::string(const Account& account, bool fresh)> oauth_access_token;
};

// Never null. Blocking only when used (a Gmail / Outlook token is fetched on first Send or Check).
std::unique_ptr<Transport> MakeTransport(const Account& account, const TransportSettings& settings);

// Where the outbox of a site writes.
std::string OutboxDir(const TransportSettings& settings, std::int64_t site_id);

}  // namespace poste::mail
