#include "modules/mail/mail_transport.hpp"

#include <filesystem>
#include <stdexcept>

#include "lib/mail/oauth2.hpp"
#include "lib/mail/smtp_client.hpp"
#include "modules/mail/outbox_transport.hpp"

namespace poste::mail {

namespace {

DeliveryResult Permanent(std::string answer) {
  DeliveryResult r;
  r.outcome = DeliveryOutcome::kPermanent;
  r.answer = std::move(answer);
  return r;
}

// An account whose type has no transport in this build yet.
class UnavailableTransport : public Transport {
 public:
  explicit UnavailableTransport(std::string type) : type_(std::move(type)) {}
  DeliveryResult Send(const Delivery&) override { return Check(); }
  DeliveryResult Check() override { return Permanent("the " + type_ + " account type is not available yet"); }

 private:
  std::string type_;
};

// Gmail / Outlook: SMTP with XOAUTH2, the access token fetched when first needed (and again when the
// server refuses it, as tokens expire after an hour).
class OAuthSmtpTransport : public Transport {
 public:
  OAuthSmtpTransport(Account account, SmtpOptions options, std::function<std::string(const Account&, bool)> token)
      : account_(std::move(account)), options_(std::move(options)), token_(std::move(token)) {}

  DeliveryResult Send(const Delivery& delivery) override {
    return WithToken([&](SmtpTransport& smtp) { return smtp.Send(delivery); });
  }
  DeliveryResult Check() override {
    return WithToken([](SmtpTransport& smtp) { return smtp.Check(); });
  }

 private:
  template <class F>
  DeliveryResult WithToken(F&& run) {
    for (int round = 0; round < 2; ++round) {
      if (!smtp_) {
        try {
          options_.bearer_token = token_(account_, round > 0);
        } catch (const OAuth2Error& e) {
          return ResultOfOAuth2Error(e);  // a revoked grant fails at once: the account must be reconnected
        } catch (const std::exception& e) {
          DeliveryResult r;
          r.outcome = DeliveryOutcome::kTemporary;
          r.answer = std::string("the OAuth2 token could not be refreshed: ") + e.what();
          return r;
        }
        smtp_ = std::make_unique<SmtpTransport>(options_);
      }
      auto r = run(*smtp_);
      // 535 / 334 on AUTH: the token was refused; one fresh token (not the cached one), then the answer stands.
      if (round == 0 && r.outcome != DeliveryOutcome::kSent &&
          (r.answer.starts_with("535") || r.answer.starts_with("334"))) {
        smtp_.reset();
        continue;
      }
      return r;
    }
    return Permanent("unreachable");
  }

  Account account_;
  SmtpOptions options_;
  std::function<std::string(const Account&, bool)> token_;
  std::unique_ptr<SmtpTransport> smtp_;
};

std::string Secret(const Account& a, const std::string& name) {
  auto it = a.secrets.find(name);
  return it == a.secrets.end() ? std::string() : it->second;
}

SmtpOptions BaseOptions(const TransportSettings& settings) {
  SmtpOptions o;
  o.policy = settings.smtp_policy;
  o.helo_name = settings.helo_name;
  o.connect_timeout = settings.smtp_connect_timeout;
  o.total_timeout = settings.smtp_total_timeout;
  o.ca_file = settings.tls_ca_file;
  return o;
}

SmtpOptions SmtpOptionsOf(const Account& a, const TransportSettings& settings) {
  SmtpOptions o = BaseOptions(settings);
  const auto& s = a.settings;
  o.host = s.value("host", "");
  const std::string tls = s.value("tls", "starttls");
  o.tls = tls == "none" ? SmtpTls::kNone : tls == "implicit" ? SmtpTls::kImplicit : SmtpTls::kStartTls;
  o.port = static_cast<std::uint16_t>(s.value("port", o.tls == SmtpTls::kImplicit ? 465 : 587));
  const std::string auth = s.value("auth", s.contains("username") ? "plain" : "none");
  o.auth = auth == "plain"     ? SmtpAuth::kPlain
           : auth == "login"   ? SmtpAuth::kLogin
           : auth == "xoauth2" ? SmtpAuth::kXoauth2
                               : SmtpAuth::kNone;
  o.username = s.value("username", "");
  o.password = Secret(a, "password");
  o.bearer_token = Secret(a, "access_token");
  return o;
}

}  // namespace

std::string OutboxDir(const TransportSettings& settings, std::int64_t site_id) {
  return (std::filesystem::path(settings.outbox_root) / std::to_string(site_id)).string();
}

std::unique_ptr<Transport> MakeTransport(const Account& account, const TransportSettings& settings) {
  const std::string& type = account.type;
  if (type == "outbox") return std::make_unique<OutboxTransport>(OutboxDir(settings, account.site_id));
  if (type == "smtp") return std::make_unique<SmtpTransport>(SmtpOptionsOf(account, settings));
  // --- providers plug in here (see TransportSettings' hooks) ---
  if (type == "sendgrid" && settings.sendgrid) return settings.sendgrid(account);
  if (type == "ses" && settings.ses) return settings.ses(account);
  if ((type == "gmail" || type == "outlook") && settings.oauth_access_token) {
    // The provider's submission server unless the account names another (smtp_host / smtp_port), always with
    // STARTTLS, under the SMTP accounts' target policy (the defaults are public hosts).
    SmtpOptions o = BaseOptions(settings);
    o.host = account.settings.value("smtp_host", type == "gmail" ? "smtp.gmail.com" : "smtp.office365.com");
    o.port = static_cast<std::uint16_t>(account.settings.value("smtp_port", 587));
    o.tls = SmtpTls::kStartTls;
    o.auth = SmtpAuth::kXoauth2;
    o.username = account.settings.value("username", account.from.email);
    return std::make_unique<OAuthSmtpTransport>(account, std::move(o), settings.oauth_access_token);
  }
  return std::make_unique<UnavailableTransport>(type);
}

}  // namespace poste::mail
