// Digests, HMAC and constant-time comparison over OpenSSL 3 EVP.
//
// Why abort on OpenSSL errors: with a fixed, built-in algorithm and in-memory inputs, EVP calls
// fail only when allocation fails or the default provider is missing. Neither is an input error a
// caller could handle, and a silently wrong digest would be a security bug, so we stop loudly.

#include "auth/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace osprey::auth {
namespace {

void CheckOpenSsl(int ok, const char* what) {
  if (ok != 1) {
    std::fprintf(stderr, "osprey: OpenSSL %s failed\n", what);
    std::abort();
  }
}

// An HMAC-SHA256 context with the algorithm fetched and the digest set, but no key. Each call
// duplicates it instead of fetching and configuring afresh: that halves the cost of an HMAC
// (SigV4 key derivation is four of them). Never modified after construction, so concurrent
// EVP_MAC_CTX_dup calls on it are safe.
const EVP_MAC_CTX* HmacSha256Prototype() {
  static EVP_MAC_CTX* const prototype = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    CheckOpenSsl(mac != nullptr ? 1 : 0, "EVP_MAC_fetch(HMAC)");
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    CheckOpenSsl(ctx != nullptr ? 1 : 0, "EVP_MAC_CTX_new");
    EVP_MAC_free(mac);  // The context holds its own reference.
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    CheckOpenSsl(EVP_MAC_CTX_set_params(ctx, params), "EVP_MAC_CTX_set_params");
    return ctx;
  }();
  return prototype;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  CheckOpenSsl(EVP_Digest(data.data(), data.size(), out, &out_len, md, nullptr), "EVP_Digest");
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

}  // namespace

Hasher::Hasher(const evp_md_st* md) : md_(md), ctx_(EVP_MD_CTX_new()) {
  CheckOpenSsl(ctx_ != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_, md_, nullptr), "EVP_DigestInit_ex");
}

Hasher::Hasher(Hasher&& other) noexcept
    : md_(other.md_), ctx_(std::exchange(other.ctx_, nullptr)) {}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    md_ = other.md_;
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

void Hasher::Update(std::string_view data) {
  CheckOpenSsl(EVP_DigestUpdate(ctx_, data.data(), data.size()), "EVP_DigestUpdate");
}

std::string Hasher::FinishRaw() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(ctx_, out, &out_len), "EVP_DigestFinal_ex");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_, md_, nullptr), "EVP_DigestInit_ex");  // Reusable.
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string Hasher::FinishHex() { return HexEncode(FinishRaw()); }

Sha256Hasher::Sha256Hasher() : Hasher(EVP_sha256()) {}
Sha1Hasher::Sha1Hasher() : Hasher(EVP_sha1()) {}
Md5Hasher::Md5Hasher() : Hasher(EVP_md5()) {}

std::string Sha256Raw(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256Raw(data)); }
std::string Md5Hex(std::string_view data) { return HexEncode(Digest(EVP_md5(), data)); }
std::string Sha1Base64(std::string_view data) { return Base64Encode(Digest(EVP_sha1(), data)); }
std::string Sha256Base64(std::string_view data) { return Base64Encode(Sha256Raw(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(HmacSha256Prototype());
  CheckOpenSsl(ctx != nullptr ? 1 : 0, "EVP_MAC_CTX_dup");
  // EVP_MAC_init rejects a null key pointer even when the length is zero.
  static const unsigned char kNoKey = 0;
  const auto* key_bytes =
      key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
  CheckOpenSsl(EVP_MAC_init(ctx, key_bytes, key.size(), nullptr), "EVP_MAC_init");
  CheckOpenSsl(
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()),
      "EVP_MAC_update");
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  CheckOpenSsl(EVP_MAC_final(ctx, out, &out_len, sizeof(out)), "EVP_MAC_final");
  EVP_MAC_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Lengths are public (a signature is always 64 hex characters), so an early exit on them is fine.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace osprey::auth
