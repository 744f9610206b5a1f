#pragma once
// For tests only (header-only, never linked into the server): the signing side of providers' event
// webhooks, with keys made by the test. SendGridSigner: an ECDSA P-256 key, its public key as SendGrid shows
// it (base64 DER SubjectPublicKeyInfo) and signatures of timestamp + body (base64 DER), as SendGrid signs.
// SnsSigner: an RSA key and a self-signed certificate; signs SNS messages (SignatureVersion 1: SHA1withRSA,
// 2: SHA256withRSA) over the canonical string AWS documents. SnsStandIn: serves the certificate over
// HTTP on loopback (at /cert.pem) and answers subscription confirmations (GET /confirm...).
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/sns.hpp"
#include "lib/net/testing/http_receiver.hpp"

namespace poste::mail::testing {

class SendGridSigner {
 public:
  SendGridSigner() {
    key_ = EVP_EC_gen("P-256");
    if (!key_) throw std::runtime_error("EVP_EC_gen");
  }
  ~SendGridSigner() { EVP_PKEY_free(key_); }
  SendGridSigner(const SendGridSigner&) = delete;
  SendGridSigner& operator=(const SendGridSigner&) = delete;

  // The verification key SendGrid shows: base64 of the DER SubjectPublicKeyInfo.
  std::string PublicKeyBase64() const {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key_, &der);
    if (len <= 0) throw std::runtime_error("i2d_PUBKEY");
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return crypto::Base64Encode(out);
  }

  // The X-Twilio-Email-Event-Webhook-Signature of timestamp + body.
  std::string Sign(std::string_view timestamp, std::string_view body) const {
    const std::string payload = std::string(timestamp) + std::string(body);
    return crypto::Base64Encode(SignBytes(key_, EVP_sha256(), payload));
  }

  static std::string SignBytes(EVP_PKEY* key, const EVP_MD* md, std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
      sig.resize(len);
      if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        len = 0;
      }
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (sig.empty()) throw std::runtime_error("EVP_DigestSign");
    return sig;
  }

 private:
  EVP_PKEY* key_ = nullptr;
};

class SnsSigner {
 public:
  // A 2048-bit RSA key and a certificate valid from an hour ago for `days` (negative: already expired).
  explicit SnsSigner(long days = 30) {
    key_ = EVP_RSA_gen(2048);
    if (!key_) throw std::runtime_error("EVP_RSA_gen");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    if (days >= 0) {
      X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
      X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400);
    } else {
      X509_gmtime_adj(X509_getm_notBefore(cert), (days - 1) * 86400);
      X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400);
    }
    X509_set_pubkey(cert, key_);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sns.amazonaws.com"),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key_, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    pem_.assign(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    X509_free(cert);
  }
  ~SnsSigner() { EVP_PKEY_free(key_); }
  SnsSigner(const SnsSigner&) = delete;
  SnsSigner& operator=(const SnsSigner&) = delete;

  const std::string& certificate_pem() const { return pem_; }

  // Sets m.Signature for m.SignatureVersion ("1" or "2").
  void Sign(SnsMessage& m) const {
    const EVP_MD* md = m.signature_version == "1" ? EVP_sha1() : EVP_sha256();
    m.signature = crypto::Base64Encode(SendGridSigner::SignBytes(key_, md, SnsStringToSign(m)));
  }

  // The JSON body SNS posts.
  static std::string Body(const SnsMessage& m) {
    nlohmann::json j = {{"Type", m.type},           {"MessageId", m.message_id},
                        {"TopicArn", m.topic_arn},  {"Message", m.message},
                        {"Timestamp", m.timestamp}, {"SignatureVersion", m.signature_version},
                        {"Signature", m.signature}, {"SigningCertURL", m.signing_cert_url}};
    if (m.type == "Notification") {
      if (m.subject) j["Subject"] = *m.subject;
      j["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe";
    } else {
      j["Token"] = m.token;
      j["SubscribeURL"] = m.subscribe_url;
    }
    return j.dump();
  }

 private:
  EVP_PKEY* key_ = nullptr;
  std::string pem_;
};

// The certificate at /cert.pem; GET /confirm?... answers 200 with SNS's ConfirmSubscriptionResponse.
class SnsStandIn {
 public:
  explicit SnsStandIn(std::string certificate_pem) : pem_(std::move(certificate_pem)) {
    receiver_.Handle([this](const net::testing::ReceivedRequest& r) {
      if (r.method == "GET" && r.target == "/cert.pem") return net::testing::ScriptedResponse(200, pem_);
      if (r.method == "GET" && r.target.rfind("/confirm", 0) == 0) {
        return net::testing::ScriptedResponse(
            200,
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:"
            "123456789012:bounces:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>");
      }
      return net::testing::ScriptedResponse(404, "no");
    });
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(receiver_.port()); }
  std::string cert_url() const { return "http://" + host() + "/cert.pem"; }
  std::string confirm_url() const { return "http://" + host() + "/confirm?Token=abc"; }
  net::testing::HttpReceiver& receiver() { return receiver_; }

  // The requests for `target` so far.
  int CountOf(std::string_view prefix) {
    int n = 0;
    for (const auto& r : receiver_.Requests()) {
      if (r.target.rfind(prefix, 0) == 0) ++n;
    }
    return n;
  }

 private:
  std::string pem_;
  net::testing::HttpReceiver receiver_;
};

}  // namespace poste::mail::testing
