// Canonical request, string to sign, key derivation, chunk signatures and the client-side signer.
// Rules from the AWS SigV4 reference ("Create a canonical request", docs.aws.amazon.com/IAM/latest/
// UserGuide/create-signed-request.html) and botocore's auth.py, checked byte-for-byte against the
// aws-c-auth test suite in sigv4_vectors_test.cc.

#include <algorithm>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "auth/sigv4_internal.h"

namespace osprey::auth {
namespace internal {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size(); ++pos) {
    if (s[pos] == '%' && pos + 2 < s.size() && HexValue(s[pos + 1]) >= 0 &&
        HexValue(s[pos + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[pos + 1]) * 16 + HexValue(s[pos + 2])));
      pos += 2;
    } else {
      out.push_back(s[pos]);
    }
  }
  return out;
}

std::pair<std::string_view, std::string_view> SplitTarget(std::string_view raw_target) {
  const size_t question = raw_target.find('?');
  if (question == std::string_view::npos) return {raw_target, {}};
  return {raw_target.substr(0, question), raw_target.substr(question + 1)};
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!raw_query.empty()) {
    const size_t amp = raw_query.find('&');
    const std::string_view piece = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(PercentDecode(piece), std::string());
    } else {
      pairs.emplace_back(PercentDecode(piece.substr(0, eq)), PercentDecode(piece.substr(eq + 1)));
    }
  }
  return pairs;
}

}  // namespace internal

namespace {

using internal::AsciiLower;

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsHeaderSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and collapses internal whitespace runs to one space. AWS does this even inside quoted
// strings (vector get-header-value-trim: "a   b   c" -> "a b c"); folded lines end up the same way.
void AppendCanonicalValue(std::string_view value, std::string& out) {
  bool pending_space = false;
  bool any = false;
  for (char c : value) {
    if (IsHeaderSpace(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out.push_back(' ');
    out.push_back(c);
    pending_space = false;
    any = true;
  }
}

// botocore's remove_dot_segments: RFC 3986 section 5.2.4 plus AWS's collapsing of empty segments.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t idx = 0; idx < segments.size(); ++idx) {
    if (idx > 0) out.push_back('/');
    out.append(segments[idx]);
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view raw_path, bool normalize) {
  if (raw_path.empty()) return "/";
  if (normalize) return UriEncode(RemoveDotSegments(raw_path), /*encode_slash=*/false);
  // S3: decode and re-encode each segment, so "%2F" inside a key stays "%2F" while raw bytes a
  // client did not encode ("/example space/" in the vectors) come out as the client signed them.
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t slash = raw_path.find('/', start);
    const std::string_view segment = raw_path.substr(start, slash - start);
    out += UriEncode(internal::PercentDecode(segment), /*encode_slash=*/true);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string CanonicalQuery(std::string_view raw_query, bool drop_signature) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : internal::ParseQuery(raw_query)) {
    if (drop_signature && name == "X-Amz-Signature") continue;
    encoded.emplace_back(UriEncode(name, /*encode_slash=*/true),
                         UriEncode(value, /*encode_slash=*/true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string CanonicalRequest(const SignableRequest& req,
                             const std::vector<std::string>& signed_headers, bool normalize,
                             bool presigned) {
  const auto [path, query] = internal::SplitTarget(req.raw_target);
  std::string out;
  out.append(req.method).push_back('\n');
  out.append(CanonicalUri(path, normalize)).push_back('\n');
  out.append(CanonicalQuery(query, /*drop_signature=*/presigned)).push_back('\n');
  for (const std::string& name : signed_headers) {
    out.append(name).push_back(':');
    bool first = true;
    for (const auto& [header_name, value] : req.headers) {
      if (AsciiLower(header_name) != name) continue;
      if (!first) out.push_back(',');
      AppendCanonicalValue(value, out);
      first = false;
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  for (size_t idx = 0; idx < signed_headers.size(); ++idx) {
    if (idx > 0) out.push_back(';');
    out.append(signed_headers[idx]);
  }
  out.push_back('\n');
  out.append(req.payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(internal::kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(Sha256Hex(canonical_request));
  return out;
}

std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  const std::string date_key = HmacSha256(std::string("AWS4").append(secret), date);
  return HmacSha256(HmacSha256(HmacSha256(date_key, region), service), internal::kTerminator);
}

// Chunk string to sign, per "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks" (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
std::string ChunkSignature(std::string_view signing_key, std::string_view amz_date,
                           std::string_view scope, std::string_view previous_signature,
                           std::string_view chunk_sha256_hex) {
  std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n";
  to_sign.append(amz_date).append("\n").append(scope).append("\n");
  to_sign.append(previous_signature).append("\n").append(kEmptySha256Hex).append("\n");
  to_sign.append(chunk_sha256_hex);
  return HexEncode(HmacSha256(signing_key, to_sign));
}

// Per docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html.
std::string TrailerSignature(std::string_view signing_key, std::string_view amz_date,
                             std::string_view scope, std::string_view previous_signature,
                             std::string_view canonical_trailers) {
  std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n";
  to_sign.append(amz_date).append("\n").append(scope).append("\n");
  to_sign.append(previous_signature).append("\n").append(Sha256Hex(canonical_trailers));
  return HexEncode(HmacSha256(signing_key, to_sign));
}

void SignRequest(SignableRequest& req, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, const Clock& clock) {
  std::erase_if(req.headers, [](const auto& header) {
    const std::string name = AsciiLower(header.first);
    return name == "x-amz-date" || name == "authorization";
  });
  const std::string amz_date = FormatAmzDate(clock.NowSeconds());
  req.headers.emplace_back("X-Amz-Date", amz_date);

  std::vector<std::string> signed_headers;
  for (const auto& header : req.headers) signed_headers.push_back(AsciiLower(header.first));
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()),
                       signed_headers.end());

  const std::string date = amz_date.substr(0, 8);
  std::string scope = date;
  scope.append("/").append(region).append("/").append(service).append("/");
  scope.append(internal::kTerminator);
  // S3 is the one service signed without path normalisation (botocore's S3SigV4Auth).
  const bool normalize = service != "s3";
  const std::string canonical =
      CanonicalRequest(req, signed_headers, normalize, /*presigned=*/false);
  const std::string signature = HexEncode(HmacSha256(
      DeriveSigningKey(secret, date, region, service), StringToSign(amz_date, scope, canonical)));

  std::string authorization(internal::kAlgorithm);
  authorization.append(" Credential=").append(access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=");
  for (size_t idx = 0; idx < signed_headers.size(); ++idx) {
    if (idx > 0) authorization.push_back(';');
    authorization.append(signed_headers[idx]);
  }
  authorization.append(", Signature=").append(signature);
  req.headers.emplace_back("Authorization", std::move(authorization));
}

}  // namespace osprey::auth
