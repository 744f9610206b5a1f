#pragma once
// DKIM (RFC 6376) with libopendkim: per-site keys, the DNS record to publish, signing of built messages and,
// for tests and diagnostics, verification against a given public key instead of DNS.
#include <memory>
#include <string>
#include <string_view>

namespace poste::mail {

struct DkimKeyPair {
  std::string private_key_pem;    // PKCS#8 PEM: store it encrypted (it signs as the domain)
  std::string public_key_base64;  // DER SubjectPublicKeyInfo, base64: the p= of the DNS record
};

// A fresh RSA key pair (2048 bits: what every verifier accepts and DNS TXT records still hold).
DkimKeyPair GenerateDkimKey(int bits = 2048);

// The base64 public key of a PEM private key (to show the DNS record again). Throws AppError on a bad key.
std::string DkimPublicKeyOf(std::string_view private_key_pem);

// The TXT record value to publish at <selector>._domainkey.<domain>: "v=DKIM1; k=rsa; p=...".
std::string DkimDnsRecord(std::string_view public_key_base64);

struct DkimSignOptions {
  std::string domain;    // d=
  std::string selector;  // s=
  std::string private_key_pem;
};

// Signs messages with one key: relaxed/relaxed, rsa-sha256, over From, To, Cc, Subject, Date, Message-ID,
// MIME-Version, Content-Type, Reply-To, In-Reply-To, References, List-Unsubscribe(-Post) as present.
// One signer serves many messages and threads.
class DkimSigner {
 public:
  // Throws AppError::Validation (fields "domain", "selector", "private_key") on bad settings.
  explicit DkimSigner(DkimSignOptions options);
  DkimSigner(DkimSigner&&) noexcept;
  DkimSigner& operator=(DkimSigner&&) noexcept;
  ~DkimSigner();

  // The "DKIM-Signature: ..." header, folded and CRLF-terminated, to put before `message` (CRLF bytes as
  // BuildMessage writes them). Throws AppError::Internal if libopendkim refuses.
  std::string Sign(std::string_view message) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class DkimResult { kPass, kFail, kNoSignature, kError };

struct DkimVerification {
  DkimResult result = DkimResult::kError;
  std::string detail;  // libopendkim's reason when not kPass
};

// Verifies the first DKIM-Signature of `message` with `dns_record` (the TXT value, "v=DKIM1; k=rsa; p=...")
// as the key of whatever selector and domain it names: no DNS query is made.
DkimVerification DkimVerify(std::string_view message, std::string_view dns_record);

}  // namespace poste::mail
