// Verify(): what it accepts and, mostly, what it rejects and with which AuthError and message.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "common/clock.h"

namespace osprey::auth {
namespace {

constexpr std::string_view kKey = "AKIDOSPREYTEST";
constexpr std::string_view kSecret = "osprey/secret+key";
constexpr std::string_view kRequestDate = "20261204T140132Z";

int64_t Millis(std::string_view amz_date) { return *ParseAmzDate(amz_date) * 1000; }

std::string Header(const SignableRequest& req, std::string_view name) {
  for (const auto& [header_name, value] : req.headers) {
    if (header_name == name) return value;
  }
  return "";
}

void SetHeader(SignableRequest& req, std::string_view name, std::string value) {
  for (auto& [header_name, header_value] : req.headers) {
    if (header_name == name) header_value = std::move(value);
  }
}

class VerifyTest : public ::testing::Test {
 protected:
  // A DetectCustomLabels-shaped JSON request, signed by SignRequest at kRequestDate.
  SignableRequest SignedJsonRequest(std::string_view service = "rekognition") const {
    SignableRequest req;
    req.method = "POST";
    req.raw_target = "/";
    req.headers = {{"Host", "localhost:8080"},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "RekognitionService.DetectCustomLabels"}};
    req.payload_hash = Sha256Hex("{}");
    SignRequest(req, kKey, kSecret, "us-east-1", service, FakeClock(Millis(kRequestDate)));
    return req;
  }

  // Signs `req` by hand over exactly `signed_headers`, replacing its Authorization header. Lets a
  // test build requests SignRequest never would (host unsigned, odd separators, wrong scope).
  static void SignOver(SignableRequest& req, const std::vector<std::string>& signed_headers,
                       std::string_view amz_date, std::string credential_scope = "",
                       std::string_view separator = ", ") {
    if (credential_scope.empty()) {
      credential_scope = std::string(amz_date.substr(0, 8)) + "/us-east-1/rekognition/aws4_request";
    }
    const std::string canonical = CanonicalRequest(req, signed_headers, true, false);
    const std::string key =
        DeriveSigningKey(kSecret, credential_scope.substr(0, 8), "us-east-1", "rekognition");
    const std::string signature =
        HexEncode(HmacSha256(key, StringToSign(amz_date, credential_scope, canonical)));
    std::string list;
    for (const std::string& name : signed_headers) list += (list.empty() ? "" : ";") + name;
    std::erase_if(req.headers, [](const auto& header) { return header.first == "Authorization"; });
    req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKey) +
                                                  "/" + credential_scope + std::string(separator) +
                                                  "SignedHeaders=" + list + std::string(separator) +
                                                  "Signature=" + signature);
  }

  AuthOutcome Run(const SignableRequest& req, std::string_view now = kRequestDate) const {
    return Verify(req, creds_, FakeClock(Millis(now)), opts_);
  }

  const StaticCredentialStore creds_{
      std::map<std::string, std::string>{{std::string(kKey), std::string(kSecret)}}};
  VerifierOptions opts_{.service = "rekognition", .max_skew_seconds = 300};
};

#define EXPECT_AUTH(outcome, expected) \
  EXPECT_EQ(AuthErrorName((outcome).error), AuthErrorName(expected)) << (outcome).message

TEST_F(VerifyTest, AcceptsSignedRequestAndReportsScope) {
  const AuthOutcome outcome = Run(SignedJsonRequest());
  EXPECT_AUTH(outcome, AuthError::kOk);
  EXPECT_EQ(outcome.access_key_id, kKey);
  EXPECT_EQ(outcome.region, "us-east-1");
  EXPECT_EQ(outcome.service, "rekognition");
  EXPECT_EQ(outcome.amz_date, kRequestDate);
  EXPECT_EQ(outcome.scope, "20261204/us-east-1/rekognition/aws4_request");
  EXPECT_EQ(outcome.signing_key, DeriveSigningKey(kSecret, "20261204", "us-east-1", "rekognition"));
  EXPECT_EQ(outcome.signature.size(), 64u);
  EXPECT_FALSE(outcome.presigned);
}

TEST_F(VerifyTest, AcceptsCommaWithAndWithoutSpace) {
  for (std::string_view separator : {", ", ",", " , "}) {
    SignableRequest req = SignedJsonRequest();
    SignOver(req, {"content-type", "host", "x-amz-date", "x-amz-target"}, kRequestDate, "",
             separator);
    EXPECT_AUTH(Run(req), AuthError::kOk);
  }
}

TEST_F(VerifyTest, ClockSkewWindowIsFiveMinutesBothWays) {
  const SignableRequest req = SignedJsonRequest();
  EXPECT_AUTH(Run(req, "20261204T140532Z"), AuthError::kOk);  // +4 min.
  EXPECT_AUTH(Run(req, "20261204T135732Z"), AuthError::kOk);  // -4 min.
  EXPECT_AUTH(Run(req, "20261204T140632Z"), AuthError::kOk);  // Exactly +5 min.

  AuthOutcome late = Run(req, "20261204T140633Z");  // 5 min + 1 s after signing.
  EXPECT_AUTH(late, AuthError::kSkewed);
  EXPECT_EQ(late.message,
            "Signature expired: 20261204T140132Z is now earlier than 20261204T140133Z "
            "(20261204T140633Z - 5 min.)");
  EXPECT_TRUE(late.signing_key.empty());

  AuthOutcome early = Run(req, "20261204T135631Z");  // Signed 5 min + 1 s in the future.
  EXPECT_AUTH(early, AuthError::kSkewed);
  EXPECT_EQ(early.message,
            "Signature not yet current: 20261204T140132Z is still later than 20261204T140131Z "
            "(20261204T135631Z + 5 min.)");
}

TEST_F(VerifyTest, SkewMessageMatchesAwsExampleAndUsesConfiguredMinutes) {
  const SignableRequest req = SignedJsonRequest();
  EXPECT_EQ(Run(req, "20261204T141500Z").message,
            "Signature expired: 20261204T140132Z is now earlier than 20261204T141000Z "
            "(20261204T141500Z - 5 min.)");
  opts_.max_skew_seconds = 900;
  EXPECT_AUTH(Run(req, "20261204T141500Z"), AuthError::kOk);
  EXPECT_EQ(Run(req, "20261204T142000Z").message,
            "Signature expired: 20261204T140132Z is now earlier than 20261204T140500Z "
            "(20261204T142000Z - 15 min.)");
}

TEST_F(VerifyTest, RejectsUnknownKey) {
  const StaticCredentialStore other(std::map<std::string, std::string>{{"AKIDOTHER", "x"}});
  const AuthOutcome outcome =
      Verify(SignedJsonRequest(), other, FakeClock(Millis(kRequestDate)), opts_);
  EXPECT_AUTH(outcome, AuthError::kUnknownKey);
  EXPECT_EQ(outcome.message, "The security token included in the request is invalid.");
  EXPECT_EQ(outcome.access_key_id, kKey);
}

TEST_F(VerifyTest, RejectsWrongSecretAndTamperingAsMismatch) {
  const StaticCredentialStore wrong_secret(
      std::map<std::string, std::string>{{std::string(kKey), "not the secret"}});
  AuthOutcome outcome =
      Verify(SignedJsonRequest(), wrong_secret, FakeClock(Millis(kRequestDate)), opts_);
  EXPECT_AUTH(outcome, AuthError::kSignatureMismatch);
  EXPECT_EQ(outcome.message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");
  EXPECT_TRUE(outcome.signing_key.empty());

  SignableRequest body = SignedJsonRequest();
  body.payload_hash = Sha256Hex("{\"x\":1}");
  EXPECT_AUTH(Run(body), AuthError::kSignatureMismatch);

  SignableRequest target = SignedJsonRequest();
  SetHeader(target, "X-Amz-Target", "RekognitionService.DeleteProject");
  EXPECT_AUTH(Run(target), AuthError::kSignatureMismatch);

  SignableRequest path = SignedJsonRequest();
  path.raw_target = "/?x=1";
  EXPECT_AUTH(Run(path), AuthError::kSignatureMismatch);

  // Uppercase hex is well-formed but never what a signer produces.
  SignableRequest upper = SignedJsonRequest();
  std::string authorization = Header(upper, "Authorization");
  for (size_t pos = authorization.find("Signature=") + 10; pos < authorization.size(); ++pos) {
    authorization[pos] = static_cast<char>(std::toupper(authorization[pos]));
  }
  SetHeader(upper, "Authorization", authorization);
  EXPECT_AUTH(Run(upper), AuthError::kSignatureMismatch);
}

TEST_F(VerifyTest, RejectsWrongScope) {
  AuthOutcome service = Run(SignedJsonRequest("s3"));
  EXPECT_AUTH(service, AuthError::kWrongScope);
  EXPECT_EQ(service.message, "Credential should be scoped to correct service: 'rekognition'. ");
  opts_.service = "";  // Any service.
  EXPECT_AUTH(Run(SignedJsonRequest("s3")), AuthError::kOk);
  opts_.service = "rekognition";

  SignableRequest date = SignedJsonRequest();
  SignOver(date, {"host", "x-amz-date"}, kRequestDate,
           "20261203/us-east-1/rekognition/aws4_request");
  AuthOutcome date_outcome = Run(date);
  EXPECT_AUTH(date_outcome, AuthError::kWrongScope);
  EXPECT_NE(date_outcome.message.find("'20261203' != '20261204'"), std::string::npos);

  SignableRequest terminator = SignedJsonRequest();
  SignOver(terminator, {"host", "x-amz-date"}, kRequestDate, "20261204/us-east-1/rekognition/aws5");
  EXPECT_AUTH(Run(terminator), AuthError::kWrongScope);
}

TEST_F(VerifyTest, RequiresHostAndEverySignedHeader) {
  SignableRequest no_host = SignedJsonRequest();
  SignOver(no_host, {"x-amz-date", "x-amz-target"}, kRequestDate);  // Correctly signed, but...
  AuthOutcome outcome = Run(no_host);
  EXPECT_AUTH(outcome, AuthError::kMalformed);
  EXPECT_EQ(outcome.message,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  SignableRequest missing = SignedJsonRequest();
  std::erase_if(missing.headers, [](const auto& h) { return h.first == "X-Amz-Target"; });
  EXPECT_AUTH(Run(missing), AuthError::kMalformed);
}

TEST_F(VerifyTest, RejectsMalformedAuthorizationHeaders) {
  const std::string good = Header(SignedJsonRequest(), "Authorization");
  const std::string credential =
      good.substr(good.find("Credential="), good.find(',') - good.find("Credential="));
  const std::string signature = good.substr(good.find("Signature="));
  const std::vector<std::string> bad = {
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256 ",
      "AWS AKIDOSPREYTEST:c2lnbmF0dXJl",  // SigV2.
      "AWS4-HMAC-SHA512 " + credential + ", SignedHeaders=host;x-amz-date, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;x-amz-date",
      "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", " + credential + ", SignedHeaders=host, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host, Extra=1, " + signature,
      "AWS4-HMAC-SHA256 Credential=AKIDOSPREYTEST/20261204/us-east-1/rekognition, "
      "SignedHeaders=host;x-amz-date, " +
          signature,
      "AWS4-HMAC-SHA256 Credential=/20261204/us-east-1/rekognition/aws4_request, "
      "SignedHeaders=host;x-amz-date, " +
          signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;x-amz-date, Signature=abc",
      "AWS4-HMAC-SHA256 " + credential +
          ", SignedHeaders=host;x-amz-date, Signature=" + std::string(64, 'g'),
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=x-amz-date;host, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=Host;x-amz-date, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;;x-amz-date, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;host, " + signature,
      "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=, " + signature,
  };
  for (const std::string& value : bad) {
    SignableRequest req = SignedJsonRequest();
    SetHeader(req, "Authorization", value);
    EXPECT_AUTH(Run(req), AuthError::kMalformed) << value;
  }
}

TEST_F(VerifyTest, RejectsBadOrMissingDatesAndDuplicateAuthorization) {
  SignableRequest bad_date = SignedJsonRequest();
  SetHeader(bad_date, "X-Amz-Date", "2026-12-04T14:01:32Z");
  EXPECT_AUTH(Run(bad_date), AuthError::kMalformed);

  SignableRequest no_date = SignedJsonRequest();
  std::erase_if(no_date.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  EXPECT_AUTH(Run(no_date), AuthError::kMalformed);

  SignableRequest twice = SignedJsonRequest();
  twice.headers.emplace_back("authorization", Header(twice, "Authorization"));
  EXPECT_AUTH(Run(twice), AuthError::kMalformed);
}

TEST_F(VerifyTest, DateHeaderStandsInForXAmzDate) {
  SignableRequest req;
  req.method = "GET";
  req.raw_target = "/";
  req.headers = {{"Host", "localhost"}, {"Date", "Fri, 04 Dec 2026 14:01:32 GMT"}};
  req.payload_hash = std::string(kEmptySha256Hex);
  SignOver(req, {"date", "host"}, kRequestDate);
  const AuthOutcome outcome = Run(req);
  EXPECT_AUTH(outcome, AuthError::kOk);
  EXPECT_EQ(outcome.amz_date, kRequestDate);
}

TEST_F(VerifyTest, NoAuthIsMissing) {
  SignableRequest req = SignedJsonRequest();
  std::erase_if(req.headers, [](const auto& h) { return h.first == "Authorization"; });
  const AuthOutcome outcome = Run(req);
  EXPECT_AUTH(outcome, AuthError::kMissing);
  EXPECT_EQ(outcome.message, "Missing Authentication Token");
}

TEST_F(VerifyTest, S3PathsAreSignedWithoutNormalisation) {
  SignableRequest req;
  req.method = "PUT";
  req.raw_target = "/bucket/dir//a%20b/../c.jpg?x-id=PutObject";
  req.headers = {{"Host", "localhost:9000"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
  req.payload_hash = "UNSIGNED-PAYLOAD";
  SignRequest(req, kKey, kSecret, "us-east-1", "s3", FakeClock(Millis(kRequestDate)));
  VerifierOptions s3{.service = "s3", .max_skew_seconds = 900, .normalize_path = false};
  EXPECT_AUTH(Verify(req, creds_, FakeClock(Millis(kRequestDate)), s3), AuthError::kOk);
  s3.normalize_path = true;
  EXPECT_AUTH(Verify(req, creds_, FakeClock(Millis(kRequestDate)), s3),
              AuthError::kSignatureMismatch);
}

TEST(VerifyMiscTest, AuthErrorNames) {
  EXPECT_EQ(AuthErrorName(AuthError::kOk), "kOk");
  EXPECT_EQ(AuthErrorName(AuthError::kWrongScope), "kWrongScope");
}

}  // namespace
}  // namespace osprey::auth
