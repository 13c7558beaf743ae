// Verify() on presigned (query-string) requests: expiry bounds, expiry, mixing with the header
// form.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "common/clock.h"

namespace osprey::auth {
namespace {

constexpr std::string_view kKey = "AKIDOSPREYTEST";
constexpr std::string_view kSecret = "osprey/secret+key";
constexpr std::string_view kSignedAt = "20261204T140132Z";

int64_t Millis(std::string_view amz_date) { return *ParseAmzDate(amz_date) * 1000; }

// A presigned GET as botocore would build it, with any X-Amz-Expires text (even invalid ones),
// correctly signed so that only the property under test can fail.
SignableRequest Presigned(std::string_view expires, std::string_view algorithm = "AWS4-HMAC-SHA256",
                          std::string_view extra_query = "") {
  SignableRequest req;
  req.method = "GET";
  req.headers = {{"Host", "localhost:9000"}};
  req.payload_hash = "UNSIGNED-PAYLOAD";
  const std::string scope = std::string(kSignedAt.substr(0, 8)) + "/us-east-1/s3/aws4_request";
  req.raw_target = "/bucket/photos/cat%201.jpg?";
  req.raw_target.append(extra_query);
  req.raw_target +=
      "X-Amz-Algorithm=" + std::string(algorithm) +
      "&X-Amz-Credential=" + UriEncode(std::string(kKey) + "/" + scope, /*encode_slash=*/true) +
      "&X-Amz-Date=" + std::string(kSignedAt) + "&X-Amz-Expires=" + std::string(expires) +
      "&X-Amz-SignedHeaders=host";
  const std::string canonical = CanonicalRequest(req, {"host"}, /*normalize=*/false, true);
  const std::string key = DeriveSigningKey(kSecret, kSignedAt.substr(0, 8), "us-east-1", "s3");
  req.raw_target +=
      "&X-Amz-Signature=" + HexEncode(HmacSha256(key, StringToSign(kSignedAt, scope, canonical)));
  return req;
}

class PresignedTest : public ::testing::Test {
 protected:
  AuthOutcome Run(const SignableRequest& req, std::string_view now = kSignedAt) const {
    return Verify(req, creds_, FakeClock(Millis(now)), opts_);
  }

  const StaticCredentialStore creds_{
      std::map<std::string, std::string>{{std::string(kKey), std::string(kSecret)}}};
  VerifierOptions opts_{
      .service = "s3", .max_skew_seconds = 900, .normalize_path = false, .allow_presigned = true};
};

#define EXPECT_AUTH(outcome, expected) \
  EXPECT_EQ(AuthErrorName((outcome).error), AuthErrorName(expected)) << (outcome).message

TEST_F(PresignedTest, AcceptsValidUrlUntilItExpires) {
  const SignableRequest req = Presigned("3600");
  const AuthOutcome outcome = Run(req);
  EXPECT_AUTH(outcome, AuthError::kOk);
  EXPECT_TRUE(outcome.presigned);
  EXPECT_EQ(outcome.access_key_id, kKey);
  EXPECT_EQ(outcome.scope, "20261204/us-east-1/s3/aws4_request");
  EXPECT_EQ(outcome.signing_key, DeriveSigningKey(kSecret, "20261204", "us-east-1", "s3"));

  EXPECT_AUTH(Run(req, "20261204T150132Z"), AuthError::kOk);  // Exactly at the expiry.
  const AuthOutcome expired = Run(req, "20261204T150133Z");
  EXPECT_AUTH(expired, AuthError::kExpired);
  EXPECT_EQ(expired.message, "Request has expired");
  EXPECT_TRUE(expired.signing_key.empty());
}

TEST_F(PresignedTest, ExpiryMustBeOneSecondToSevenDays) {
  EXPECT_AUTH(Run(Presigned("1")), AuthError::kOk);
  EXPECT_AUTH(Run(Presigned("604800")), AuthError::kOk);
  for (std::string_view bad : {"0", "604801", "609901", "-1", "", "abc", "1.5", "99999999999"}) {
    EXPECT_AUTH(Run(Presigned(bad)), AuthError::kMalformed) << bad;
  }
}

TEST_F(PresignedTest, ExpiredAfterAWeekEvenWithinSkew) {
  const SignableRequest req = Presigned("604800");
  EXPECT_AUTH(Run(req, "20261211T140132Z"), AuthError::kOk);
  EXPECT_AUTH(Run(req, "20261211T140133Z"), AuthError::kExpired);
}

TEST_F(PresignedTest, FutureDatedBeyondSkewIsRejected) {
  const SignableRequest req = Presigned("3600");
  EXPECT_AUTH(Run(req, "20261204T134632Z"), AuthError::kOk);  // Signed 15 min ahead.
  const AuthOutcome outcome = Run(req, "20261204T134631Z");
  EXPECT_AUTH(outcome, AuthError::kSkewed);
  EXPECT_NE(outcome.message.find("+ 15 min."), std::string::npos);
}

TEST_F(PresignedTest, NotAcceptedWhereDisabled) {
  opts_.allow_presigned = false;
  EXPECT_AUTH(Run(Presigned("3600")), AuthError::kMissing);
}

TEST_F(PresignedTest, BothFormsAtOnceAreMalformed) {
  SignableRequest req = Presigned("3600");
  req.headers.emplace_back("Authorization",
                           "AWS4-HMAC-SHA256 Credential=AKIDOSPREYTEST/20261204/us-east-1/s3/"
                           "aws4_request, SignedHeaders=host, Signature=" +
                               std::string(64, '0'));
  EXPECT_AUTH(Run(req), AuthError::kMalformed);
  opts_.allow_presigned = false;  // Ambiguous whatever the endpoint accepts.
  EXPECT_AUTH(Run(req), AuthError::kMalformed);
}

TEST_F(PresignedTest, RejectsIncompleteOrForeignQueryAuth) {
  EXPECT_AUTH(Run(Presigned("3600", "AWS4-HMAC-SHA512")), AuthError::kMalformed);
  SignableRequest missing = Presigned("3600");
  const size_t start = missing.raw_target.find("&X-Amz-SignedHeaders=host");
  missing.raw_target.erase(start, std::string_view("&X-Amz-SignedHeaders=host").size());
  EXPECT_AUTH(Run(missing), AuthError::kMalformed);
  SignableRequest twice = Presigned("3600");
  twice.raw_target += "&X-Amz-Date=20261204T140132Z";
  EXPECT_AUTH(Run(twice), AuthError::kMalformed);
}

TEST_F(PresignedTest, OtherQueryParametersAreSigned) {
  EXPECT_AUTH(Run(Presigned("3600", "AWS4-HMAC-SHA256", "response-content-type=image%2Fjpeg&")),
              AuthError::kOk);
  SignableRequest tampered = Presigned("3600");
  tampered.raw_target += "&response-content-type=text%2Fhtml";
  EXPECT_AUTH(Run(tampered), AuthError::kSignatureMismatch);
  SignableRequest other_path = Presigned("3600");
  other_path.raw_target.replace(0, std::string_view("/bucket/photos").size(), "/bucket/private");
  EXPECT_AUTH(Run(other_path), AuthError::kSignatureMismatch);
}

}  // namespace
}  // namespace osprey::auth
