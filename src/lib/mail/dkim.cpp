#include "lib/mail/dkim.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

// dkim.h is C99: _Bool is its boolean type.
#define _Bool bool
#include <dkim.h>
#undef _Bool

#include "lib/crypto/encoding.hpp"
#include "lib/error.hpp"
#include "lib/validate/domain.hpp"

namespace poste::mail {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct LibClose {
  void operator()(DKIM_LIB* lib) const { dkim_close(lib); }
};
struct DkimFree {
  void operator()(DKIM* d) const { dkim_free(d); }
};

using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Lib = std::unique_ptr<DKIM_LIB, LibClose>;
using Handle = std::unique_ptr<DKIM, DkimFree>;

const char* const kSignedHeaders[] = {"from",
                                      "to",
                                      "cc",
                                      "subject",
                                      "date",
                                      "message-id",
                                      "mime-version",
                                      "content-type",
                                      "content-transfer-encoding",
                                      "reply-to",
                                      "in-reply-to",
                                      "references",
                                      "list-unsubscribe",
                                      "list-unsubscribe-post",
                                      nullptr};

std::string PublicKeyBase64(EVP_PKEY* key) {
  int size = i2d_PUBKEY(key, nullptr);
  if (size <= 0) throw AppError::Internal("DKIM: cannot encode the public key");
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(key, &out);
  return crypto::Base64Encode(der);
}

Pkey ReadPrivateKey(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    throw AppError::Validation({{"private_key", "invalid_key", "Expected an RSA private key in PEM form."}});
  }
  return key;
}

Lib NewLib() {
  Lib lib(dkim_init(nullptr, nullptr));
  if (!lib) throw AppError::Internal("DKIM: dkim_init failed");
  return lib;
}

// Feeds the message to a handle: each header field whole (folded lines included, final CRLF excluded),
// the end of the headers, then the body as it is.
DKIM_STAT Feed(DKIM* dkim, std::string_view message) {
  auto end = message.find("\r\n\r\n");
  std::string_view head = message.substr(0, end == std::string_view::npos ? message.size() : end + 2);
  std::string_view body = end == std::string_view::npos ? std::string_view() : message.substr(end + 4);
  std::size_t start = 0;
  while (start < head.size()) {
    std::size_t eol = head.find("\r\n", start);
    while (eol != std::string_view::npos && eol + 2 < head.size() && (head[eol + 2] == ' ' || head[eol + 2] == '\t')) {
      eol = head.find("\r\n", eol + 2);
    }
    if (eol == std::string_view::npos) eol = head.size();
    std::string field(head.substr(start, eol - start));
    if (!field.empty()) {
      DKIM_STAT status = dkim_header(dkim, reinterpret_cast<u_char*>(field.data()), field.size());
      if (status != DKIM_STAT_OK) return status;
    }
    start = eol + 2;
  }
  DKIM_STAT status = dkim_eoh(dkim);
  if (status != DKIM_STAT_OK) return status;
  if (!body.empty()) {
    std::string copy(body);  // dkim_body takes a non-const buffer
    status = dkim_body(dkim, reinterpret_cast<u_char*>(copy.data()), copy.size());
    if (status != DKIM_STAT_OK) return status;
  }
  return dkim_eom(dkim, nullptr);
}

std::string ResultString(DKIM_STAT status) {
  const char* s = dkim_getresultstr(status);
  return s == nullptr ? "status " + std::to_string(status) : s;
}

// The record handed to the key lookup callback of a verification.
DKIM_CBSTAT LookupKey(DKIM* dkim, DKIM_SIGINFO*, u_char* buf, size_t buflen) {
  const auto* record = static_cast<const std::string*>(dkim_get_user_context(dkim));
  if (record == nullptr || record->size() + 1 > buflen) return DKIM_CBSTAT_ERROR;
  std::copy(record->begin(), record->end(), buf);
  buf[record->size()] = '\0';
  return DKIM_CBSTAT_CONTINUE;
}

std::atomic<unsigned> job_counter{0};

std::string JobId() { return "poste-" + std::to_string(job_counter.fetch_add(1)); }

}  // namespace

DkimKeyPair GenerateDkimKey(int bits) {
  Pkey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) throw AppError::Internal("DKIM: RSA key generation failed");
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw AppError::Internal("DKIM: cannot write the private key");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {std::string(data, static_cast<std::size_t>(size)), PublicKeyBase64(key.get())};
}

std::string DkimPublicKeyOf(std::string_view private_key_pem) {
  return PublicKeyBase64(ReadPrivateKey(private_key_pem).get());
}

std::string DkimDnsRecord(std::string_view public_key_base64) {
  return "v=DKIM1; k=rsa; p=" + std::string(public_key_base64);
}

struct DkimSigner::Impl {
  DkimSignOptions options;
  Lib lib;
};

DkimSigner::DkimSigner(DkimSignOptions options) {
  std::vector<FieldError> errors;
  if (!validate::IsValidDomain(options.domain)) {
    errors.push_back({"domain", "invalid_domain", "Expected the domain that signs, e.g. example.com."});
  }
  bool selector_ok = !options.selector.empty() && options.selector.size() <= 63;
  for (char c : options.selector) {
    selector_ok = selector_ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '-' || c == '_' || c == '.');
  }
  if (!selector_ok) errors.push_back({"selector", "invalid_selector", "A selector is letters, digits, '-', '_'."});
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  ReadPrivateKey(options.private_key_pem);  // refuse a bad key now rather than at the first message
  impl_ = std::make_unique<Impl>(Impl{std::move(options), NewLib()});
  dkim_options(impl_->lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, const_cast<char**>(kSignedHeaders),
               sizeof(char**));
}

DkimSigner::DkimSigner(DkimSigner&&) noexcept = default;
DkimSigner& DkimSigner::operator=(DkimSigner&&) noexcept = default;
DkimSigner::~DkimSigner() = default;

std::string DkimSigner::Sign(std::string_view message) const {
  DKIM_STAT status = DKIM_STAT_OK;
  std::string id = JobId();
  const auto& o = impl_->options;
  Handle dkim(dkim_sign(impl_->lib.get(), reinterpret_cast<const u_char*>(id.c_str()), nullptr,
                        // dkim_sigkey_t is non-const, but libopendkim only reads the key.
                        const_cast<u_char*>(reinterpret_cast<const u_char*>(o.private_key_pem.c_str())),
                        reinterpret_cast<const u_char*>(o.selector.c_str()),
                        reinterpret_cast<const u_char*>(o.domain.c_str()), DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                        DKIM_SIGN_RSASHA256, -1, &status));
  if (!dkim) throw AppError::Internal("DKIM: dkim_sign failed: " + ResultString(status));
  status = Feed(dkim.get(), message);
  if (status != DKIM_STAT_OK) throw AppError::Internal("DKIM: signing failed: " + ResultString(status));
  constexpr std::string_view kName = DKIM_SIGNHEADER ": ";
  unsigned char* value = nullptr;
  size_t length = 0;
  status = dkim_getsighdr_d(dkim.get(), kName.size(), &value, &length);
  if (status != DKIM_STAT_OK || value == nullptr) {
    throw AppError::Internal("DKIM: no signature header: " + ResultString(status));
  }
  // libopendkim folds with a bare LF; the message uses CRLF.
  std::string header(kName);
  for (size_t i = 0; i < length; ++i) {
    if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) header += '\r';
    header += static_cast<char>(value[i]);
  }
  return header + "\r\n";
}

DkimVerification DkimVerify(std::string_view message, std::string_view dns_record) {
  Lib lib = NewLib();
  dkim_set_key_lookup(lib.get(), LookupKey);
  DKIM_STAT status = DKIM_STAT_OK;
  std::string id = JobId();
  Handle dkim(dkim_verify(lib.get(), reinterpret_cast<const u_char*>(id.c_str()), nullptr, &status));
  if (!dkim) return {DkimResult::kError, ResultString(status)};
  std::string record(dns_record);
  dkim_set_user_context(dkim.get(), &record);
  status = Feed(dkim.get(), message);
  switch (status) {
    case DKIM_STAT_OK:
      return {DkimResult::kPass, {}};
    case DKIM_STAT_NOSIG:
      return {DkimResult::kNoSignature, ResultString(status)};
    case DKIM_STAT_BADSIG: {
      std::string detail = ResultString(status);
      if (DKIM_SIGINFO* sig = dkim_getsignature(dkim.get())) {
        if (const char* why = dkim_sig_geterrorstr(dkim_sig_geterror(sig))) detail += ": " + std::string(why);
      }
      return {DkimResult::kFail, detail};
    }
    default: {
      const char* why = dkim_geterror(dkim.get());
      return {DkimResult::kError, ResultString(status) + (why != nullptr ? ": " + std::string(why) : "")};
    }
  }
}

}  // namespace poste::mail
