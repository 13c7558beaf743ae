// S3Handler end to end in process: signed requests in, HTTP responses out, against a real
// LocalObjectStore in a temp folder. Covers the payload modes and the bad-input cases of
// shared/docs/SECURITY-AND-RELIABILITY.md section 6 (items 1-4) that the AWS CLI cannot send.
#include "s3/s3_handler.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "storage/local_object_store.h"

namespace osprey::s3 {
namespace {
namespace fs = std::filesystem;

constexpr char kKey[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "secret/EXAMPLE";
constexpr int64_t kNowMs = 1764000000000;

struct Sent {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;
};

class S3HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("osprey-s3h-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    store_ = std::move(storage::LocalObjectStore::Open(root_ / "buckets")).value();
    S3Options options;
    options.min_part_bytes = 1;
    handler_ = std::make_unique<S3Handler>(*store_, creds_, clock_, options);
    EXPECT_EQ(Send({"PUT", "/bucket", "", {}, ""}).status, 200);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Signs (at now + skew) and sends; the body is streamed in 1000-byte pieces for PUT/POST.
  http::HttpResponse Send(Sent sent, int64_t skew_seconds = 0, std::string* seed = nullptr,
                          std::function<std::string(const std::string&)> body_from_seed = {}) {
    auth::SignableRequest req;
    req.method = sent.method;
    req.raw_target = sent.target;
    req.headers = sent.headers;
    req.headers.emplace_back("Host", "localhost");
    if (sent.payload_hash.empty()) sent.payload_hash = auth::Sha256Hex(sent.body);
    req.headers.emplace_back("x-amz-content-sha256", sent.payload_hash);
    req.payload_hash = sent.payload_hash;
    FakeClock signing_clock(kNowMs + skew_seconds * 1000);
    auth::SignRequest(req, kKey, kSecret, "us-east-1", "s3", signing_clock);
    std::string signature;
    for (auto& [name, value] : req.headers) {
      if (name == "Authorization") signature = value.substr(value.size() - 64);
    }
    if (seed) *seed = signature;
    if (body_from_seed) sent.body = body_from_seed(signature);
    return Deliver(req, sent.body);
  }

  http::HttpResponse Deliver(const auth::SignableRequest& req, const std::string& body) {
    http::HttpRequest request;
    request.method = req.method;
    request.target = req.raw_target;
    size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string::npos ? "" : request.target.substr(q + 1);
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(lower, value);
    }
    if (!body.empty() && request.Header("content-length") == nullptr) {
      request.headers.emplace_back("content-length", std::to_string(body.size()));  // unsigned
    }
    if (S3Handler::WantsStreamedBody(request)) {
      request.read_body = [body](const http::BodySink& sink) {
        for (size_t pos = 0; pos < body.size(); pos += 1000) {
          if (!sink(body.data() + pos, std::min<size_t>(1000, body.size() - pos))) return false;
        }
        return true;
      };
    } else {
      request.body = body;
    }
    return handler_->Handle(request);
  }

  static std::string BodyOf(const http::HttpResponse& response) {
    if (!response.stream) return response.body;
    std::string out;
    response.stream(0, static_cast<size_t>(response.stream_length), [&](const char* d, size_t n) {
      out.append(d, n);
      return true;
    });
    return out;
  }
  static std::string CodeOf(const http::HttpResponse& response) {
    size_t start = response.body.find("<Code>");
    if (start == std::string::npos) return "";
    return response.body.substr(start + 6, response.body.find("</Code>") - start - 6);
  }
  int HeadStatus(const std::string& key) {
    return Send({"HEAD", "/bucket/" + key, "", {}, ""}).status;
  }

  fs::path root_;
  FakeClock clock_{kNowMs};
  auth::StaticCredentialStore creds_{{{kKey, kSecret}}};
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<S3Handler> handler_;
};

std::string Length(size_t n) { return std::to_string(n); }

TEST_F(S3HandlerTest, SignedPayloadRoundTripsAndMismatchStoresNothing) {
  auto put = Send({"PUT", "/bucket/a%20b/c.txt", "hello", {{"Content-Length", "5"}}, ""});
  ASSERT_EQ(put.status, 200) << put.body;
  auto get = Send({"GET", "/bucket/a%20b/c.txt", "", {}, ""});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(BodyOf(get), "hello");
  auto bad =
      Send({"PUT", "/bucket/x", "hello", {{"Content-Length", "5"}}, auth::Sha256Hex("other")});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(CodeOf(bad), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(HeadStatus("x"), 404);
}

TEST_F(S3HandlerTest, UnsignedPayloadAndContentMd5) {
  const std::string md5 = auth::Base64Encode(auth::Sha256Raw("x").substr(0, 16));
  auto ok = Send({"PUT", "/bucket/u", "data", {{"Content-Length", "4"}}, "UNSIGNED-PAYLOAD"});
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto wrong_md5 = Send({"PUT",
                         "/bucket/m",
                         "data",
                         {{"Content-Length", "4"}, {"Content-MD5", md5}},
                         "UNSIGNED-PAYLOAD"});
  EXPECT_EQ(CodeOf(wrong_md5), "BadDigest");
  auto invalid_md5 = Send({"PUT",
                           "/bucket/m",
                           "data",
                           {{"Content-Length", "4"}, {"Content-MD5", "nope"}},
                           "UNSIGNED-PAYLOAD"});
  EXPECT_EQ(CodeOf(invalid_md5), "InvalidDigest");
  auto lie = Send({"PUT", "/bucket/m", "data", {{"Content-Length", "40"}}, "UNSIGNED-PAYLOAD"});
  EXPECT_EQ(CodeOf(lie), "IncompleteBody");
  EXPECT_EQ(HeadStatus("m"), 404);
}

// Builds an aws-chunked body signed from `seed`, optionally corrupting chunk `bad_chunk`.
std::string SignedChunks(const std::string& seed, const std::string& data, size_t chunk,
                         int bad_chunk = -1) {
  std::string key = auth::DeriveSigningKey(kSecret, "20251124", "us-east-1", "s3");
  std::string date = "20251124T160000Z";  // FormatAmzDate(kNowMs / 1000)
  std::string scope = "20251124/us-east-1/s3/aws4_request";
  std::string previous = seed, body;
  int index = 0;
  for (size_t pos = 0;; pos += chunk, ++index) {
    std::string piece = data.substr(std::min(pos, data.size()), chunk);
    std::string sig = auth::ChunkSignature(key, date, scope, previous, auth::Sha256Hex(piece));
    previous = sig;
    if (index == bad_chunk) sig[0] = sig[0] == '0' ? '1' : '0';
    char size[32];
    std::snprintf(size, sizeof(size), "%zx", piece.size());
    body += std::string(size) + ";chunk-signature=" + sig + "\r\n" + piece + "\r\n";
    if (piece.empty()) break;
  }
  return body;
}

TEST_F(S3HandlerTest, StreamingSignedPayloadVerifiesEveryChunk) {
  ASSERT_EQ(auth::FormatAmzDate(kNowMs / 1000), "20251124T160000Z");
  const std::string data(70000, 'z');
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Encoding", "aws-chunked"}, {"x-amz-decoded-content-length", Length(data.size())}};
  auto good =
      Send({"PUT", "/bucket/s", "", headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 0, nullptr,
           [&](const std::string& seed) { return SignedChunks(seed, data, 8192); });
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(BodyOf(Send({"GET", "/bucket/s", "", {}, ""})), data);
  for (int bad : {0, 5, 8}) {  // first, middle and the final zero-length chunk
    auto tampered =
        Send({"PUT", "/bucket/t", "", headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 0, nullptr,
             [&](const std::string& seed) { return SignedChunks(seed, data, 8192, bad); });
    EXPECT_EQ(tampered.status, 403) << bad;
    EXPECT_EQ(CodeOf(tampered), "SignatureDoesNotMatch");
  }
  auto truncated = Send({"PUT", "/bucket/t", "", headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 0,
                        nullptr, [&](const std::string& seed) {
                          std::string body = SignedChunks(seed, data, 8192);
                          return body.substr(0, body.size() - 100);
                        });
  EXPECT_EQ(CodeOf(truncated), "IncompleteBody");
  auto missing_length = Send({"PUT",
                              "/bucket/t",
                              "",
                              {{"Content-Encoding", "aws-chunked"}},
                              "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"});
  EXPECT_EQ(CodeOf(missing_length), "MissingContentLength");
  EXPECT_EQ(HeadStatus("t"), 404);
}

TEST_F(S3HandlerTest, UnsignedTrailerChecksumIsVerified) {
  auto send = [&](const std::string& trailer_value, bool with_trailer) {
    std::string body = "b\r\nhello world\r\n0\r\n";
    if (with_trailer) body += "x-amz-checksum-crc32:" + trailer_value + "\r\n";
    body += "\r\n";
    return Send({"PUT",
                 "/bucket/tr",
                 body,
                 {{"Content-Encoding", "aws-chunked"},
                  {"x-amz-decoded-content-length", "11"},
                  {"x-amz-trailer", "x-amz-checksum-crc32"}},
                 "STREAMING-UNSIGNED-PAYLOAD-TRAILER"});
  };
  EXPECT_EQ(CodeOf(send(auth::Crc32Base64("hello worle"), true)), "BadDigest");
  EXPECT_EQ(CodeOf(send("", false)), "MalformedTrailerError");
  EXPECT_EQ(HeadStatus("tr"), 404);
  auto good = send(auth::Crc32Base64("hello world"), true);
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(BodyOf(Send({"GET", "/bucket/tr", "", {}, ""})), "hello world");
}

TEST_F(S3HandlerTest, ClockSkewIsFifteenMinutes) {
  EXPECT_EQ(Send({"GET", "/bucket", "", {}, ""}, 14 * 60).status, 200);
  EXPECT_EQ(Send({"GET", "/bucket", "", {}, ""}, -14 * 60).status, 200);
  for (int64_t skew : {16 * 60, -16 * 60}) {
    auto response = Send({"GET", "/bucket", "", {}, ""}, skew);
    EXPECT_EQ(response.status, 403);
    EXPECT_EQ(CodeOf(response), "RequestTimeTooSkewed");
  }
}

TEST_F(S3HandlerTest, AuthFailures) {
  auth::SignableRequest req{
      "GET", "/bucket", {{"Host", "localhost"}}, auth::kEmptySha256Hex.data()};
  req.headers.emplace_back("x-amz-content-sha256", std::string(auth::kEmptySha256Hex));
  EXPECT_EQ(CodeOf(Deliver(req, "")), "AccessDenied");  // anonymous
  auth::SignRequest(req, "AKIDUNKNOWN", kSecret, "us-east-1", "s3", clock_);
  EXPECT_EQ(CodeOf(Deliver(req, "")), "InvalidAccessKeyId");
  auth::SignRequest(req, kKey, "wrong-secret", "us-east-1", "s3", clock_);
  EXPECT_EQ(CodeOf(Deliver(req, "")), "SignatureDoesNotMatch");
  auth::SignRequest(req, kKey, kSecret, "us-east-1", "rekognition", clock_);
  EXPECT_EQ(CodeOf(Deliver(req, "")), "AuthorizationHeaderMalformed");
}

TEST_F(S3HandlerTest, NamesThatTryToLeaveTheStoreAreRefused) {
  for (const std::string& target : std::vector<std::string>{
           "/bucket/..%2F..%2Fescape", "/bucket/%2e%2e/%2e%2e/escape", "/bucket/a/../../escape",
           "/bucket//escape", "/bucket/a%5C..%5Cescape", "/bucket/a%00b", "/bucket/%ff%fe",
           "/bucket/" + std::string(1025, 'k'), "/bucket/%zz"}) {
    auto response = Send({"PUT", target, "x", {{"Content-Length", "1"}}, ""});
    EXPECT_GE(response.status, 400) << target;
  }
  for (const std::string& bucket :
       std::vector<std::string>{"/..", "/.", "/%2e%2e", "/UPPER", "/a", "/buckets"}) {
    auto response = Send({"PUT", bucket + "/k", "x", {{"Content-Length", "1"}}, ""});
    EXPECT_GE(response.status, 400) << bucket;
  }
  // Decoded once only: a double-encoded dot segment is the literal, harmless key "%2e%2e/escape".
  EXPECT_EQ(Send({"PUT", "/bucket/%252e%252e/escape", "x", {{"Content-Length", "1"}}, ""}).status,
            200);
  EXPECT_TRUE(fs::exists(root_ / "buckets" / "bucket" / "%2e%2e" / "escape"));
  EXPECT_EQ(Send({"DELETE", "/bucket/%252e%252e/escape", "", {}, ""}).status, 204);
  EXPECT_FALSE(fs::exists(root_ / "escape"));
  EXPECT_FALSE(fs::exists(root_ / "buckets" / "escape"));
  auto list = Send({"GET", "/bucket?list-type=2", "", {}, ""});
  EXPECT_EQ(list.body.find("<Contents>"), std::string::npos) << list.body;
}

TEST_F(S3HandlerTest, MultipartAndListing) {
  auto created = Send({"POST", "/bucket/big?uploads", "", {}, ""});
  ASSERT_EQ(created.status, 200) << created.body;
  size_t at = created.body.find("<UploadId>") + 10;
  std::string id = created.body.substr(at, created.body.find("</UploadId>") - at);
  auto p1 = Send(
      {"PUT", "/bucket/big?partNumber=1&uploadId=" + id, "abc", {{"Content-Length", "3"}}, ""});
  auto p2 = Send(
      {"PUT", "/bucket/big?partNumber=2&uploadId=" + id, "def", {{"Content-Length", "3"}}, ""});
  ASSERT_EQ(p2.status, 200) << p2.body;
  auto etag_of = [](const http::HttpResponse& r) {
    for (auto& [n, v] : r.headers)
      if (n == "ETag") return v;
    return std::string();
  };
  std::string xml = "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>" +
                    etag_of(p2) + "</ETag></Part><Part><PartNumber>1</PartNumber><ETag>" +
                    etag_of(p1) + "</ETag></Part></CompleteMultipartUpload>";
  EXPECT_EQ(CodeOf(Send({"POST", "/bucket/big?uploadId=" + id, xml, {}, ""})), "InvalidPartOrder");
  xml = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag_of(p1) +
        "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>" + etag_of(p2) +
        "</ETag></Part></CompleteMultipartUpload>";
  auto done = Send({"POST", "/bucket/big?uploadId=" + id, xml, {}, ""});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("-2&quot;</ETag>"), std::string::npos) << done.body;
  EXPECT_EQ(BodyOf(Send({"GET", "/bucket/big", "", {}, ""})), "abcdef");
  EXPECT_EQ(
      CodeOf(Send(
          {"PUT", "/bucket/big?partNumber=1&uploadId=" + id, "x", {{"Content-Length", "1"}}, ""})),
      "NoSuchUpload");
  auto list = Send({"GET", "/bucket?list-type=2&delimiter=%2F&encoding-type=url", "", {}, ""});
  EXPECT_NE(list.body.find("<Key>big</Key>"), std::string::npos) << list.body;
}

}  // namespace
}  // namespace osprey::s3
