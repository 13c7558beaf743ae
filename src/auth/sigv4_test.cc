// Unit tests for the SigV4 building blocks, the aws-chunked known answers and the date helpers.
// Verify()'s accept/reject behaviour is in sigv4_verify_test.cc; the AWS suite in
// sigv4_vectors_test.cc.

#include "auth/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "common/clock.h"

namespace osprey::auth {
namespace {

TEST(SigV4Test, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b/c");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("+=&%*", true), "%2B%3D%26%25%2A");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", true), "%E1%88%B4");  // UTF-8, uppercase hex.
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(SigV4Test, CanonicalUriForS3EncodesEachSegmentOnce) {
  EXPECT_EQ(CanonicalUri("", false), "/");
  EXPECT_EQ(CanonicalUri("/", false), "/");
  EXPECT_EQ(CanonicalUri("/bucket/a%20b", false), "/bucket/a%20b");    // Already encoded: kept.
  EXPECT_EQ(CanonicalUri("/bucket/a b", false), "/bucket/a%20b");      // Raw: encoded.
  EXPECT_EQ(CanonicalUri("/bucket/a%2Fb", false), "/bucket/a%2Fb");    // Encoded '/' stays encoded.
  EXPECT_EQ(CanonicalUri("/bucket/%7euser", false), "/bucket/~user");  // Over-encoded: canonical.
  EXPECT_EQ(CanonicalUri("/bucket/100%", false), "/bucket/100%25");    // Stray '%'.
  EXPECT_EQ(CanonicalUri("//a/./b/../", false), "//a/./b/../");        // Never normalised.
}

TEST(SigV4Test, CanonicalUriNormalizedRemovesDotsAndDoubleEncodes) {
  EXPECT_EQ(CanonicalUri("", true), "/");
  EXPECT_EQ(CanonicalUri("/", true), "/");
  EXPECT_EQ(CanonicalUri("//a//b//", true), "/a/b/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c", true), "/a/c");
  EXPECT_EQ(CanonicalUri("/a/..", true), "/");
  EXPECT_EQ(CanonicalUri("/../..", true), "/");
  EXPECT_EQ(CanonicalUri("/a/.", true), "/a");  // botocore keeps no slash after a final dot.
  // A wire path is encoded once more, as botocore signs it for non-S3 services.
  EXPECT_EQ(CanonicalUri("/a%20b", true), "/a%2520b");
}

TEST(SigV4Test, CanonicalQuerySortsAndReencodes) {
  EXPECT_EQ(CanonicalQuery("", false), "");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a=0", false), "a=0&a=1&b=2");
  EXPECT_EQ(CanonicalQuery("uploads", false), "uploads=");
  EXPECT_EQ(CanonicalQuery("x=&&y", false), "x=&y=");
  EXPECT_EQ(CanonicalQuery("k=a%2fb%20c", false), "k=a%2Fb%20c");
  EXPECT_EQ(CanonicalQuery("k=a/b c", false), "k=a%2Fb%20c");
  EXPECT_EQ(CanonicalQuery("k=a+b", false), "k=a%2Bb");  // '+' is a plus, not a space.
  EXPECT_EQ(CanonicalQuery("k=a=b", false), "k=a%3Db");
  // Sorted by the encoded name: "%E1..." < "Param" < "Param-3" (byte order).
  EXPECT_EQ(CanonicalQuery("Param-3=3&Param=2&%E1%88%B4=1", false),
            "%E1%88%B4=1&Param=2&Param-3=3");
  EXPECT_EQ(CanonicalQuery("X-Amz-Signature=abc&a=1", false), "X-Amz-Signature=abc&a=1");
  EXPECT_EQ(CanonicalQuery("X-Amz-Signature=abc&a=1", true), "a=1");
}

TEST(SigV4Test, CanonicalRequestJoinsTrimsAndCollapsesHeaders) {
  SignableRequest req;
  req.method = "POST";
  req.raw_target = "/?b=2&a=1";
  req.headers = {{"Host", "example.com"},
                 {"X-Multi", " first  value "},
                 {"x-multi", "second\t\tvalue"},
                 {"X-Ignored", "not signed"},
                 {"X-Empty", ""}};
  req.payload_hash = std::string(kEmptySha256Hex);
  EXPECT_EQ(CanonicalRequest(req, {"host", "x-empty", "x-multi"}, true, false),
            "POST\n/\na=1&b=2\nhost:example.com\nx-empty:\nx-multi:first value,second value\n\n"
            "host;x-empty;x-multi\n" +
                std::string(kEmptySha256Hex));
}

TEST(SigV4Test, DeriveSigningKeyMatchesAwsDocumentationExample) {
  // docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html (IAM, 20120215).
  EXPECT_EQ(HexEncode(DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                       "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// The S3 aws-chunked example from "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" (AWS S3 API reference), re-derived from the request.
class ChunkedExampleTest : public ::testing::Test {
 protected:
  static constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  static constexpr std::string_view kSeed =
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  static constexpr std::string_view kChunk1 =
      "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
  static constexpr std::string_view kChunk2 =
      "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
  static constexpr std::string_view kFinal =
      "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
  static constexpr std::string_view kTrailer =
      "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c";
  static constexpr std::string_view kDate = "20130524T000000Z";
  static constexpr std::string_view kScope = "20130524/us-east-1/s3/aws4_request";

  SignableRequest MakeRequest() const {
    SignableRequest req;
    req.method = "PUT";
    req.raw_target = "/examplebucket/chunkObject.txt";
    req.headers = {{"Host", "s3.amazonaws.com"},
                   {"x-amz-date", std::string(kDate)},
                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                   {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                   {"Content-Encoding", "aws-chunked"},
                   {"x-amz-decoded-content-length", "66560"},
                   {"Content-Length", "66824"}};
    req.payload_hash = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    return req;
  }

  const FakeClock clock_{*ParseAmzDate(kDate) * 1000};
  const std::string key_ = DeriveSigningKey(kSecret, "20130524", "us-east-1", "s3");
};

TEST_F(ChunkedExampleTest, SeedSignatureIsDerivedFromTheRequest) {
  SignableRequest req = MakeRequest();
  SignRequest(req, "AKIAIOSFODNN7EXAMPLE", kSecret, "us-east-1", "s3", clock_);
  EXPECT_EQ(req.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class, Signature=" +
                std::string(kSeed));

  // The server side gets the same seed and the key to check the chunks with.
  const StaticCredentialStore creds(
      std::map<std::string, std::string>{{"AKIAIOSFODNN7EXAMPLE", std::string(kSecret)}});
  VerifierOptions opts{.service = "s3", .max_skew_seconds = 900, .normalize_path = false};
  const AuthOutcome outcome = Verify(req, creds, clock_, opts);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(outcome.signature, kSeed);
  EXPECT_EQ(outcome.signing_key, key_);
  EXPECT_EQ(outcome.scope, kScope);
  EXPECT_EQ(outcome.amz_date, kDate);
}

TEST_F(ChunkedExampleTest, ChunkChainMatchesKnownAnswers) {
  const std::string chunk1(65536, 'a');
  const std::string chunk2(1024, 'a');
  const std::string sig1 = ChunkSignature(key_, kDate, kScope, kSeed, Sha256Hex(chunk1));
  EXPECT_EQ(sig1, kChunk1);
  const std::string sig2 = ChunkSignature(key_, kDate, kScope, sig1, Sha256Hex(chunk2));
  EXPECT_EQ(sig2, kChunk2);
  const std::string final_sig = ChunkSignature(key_, kDate, kScope, sig2, kEmptySha256Hex);
  EXPECT_EQ(final_sig, kFinal);
  EXPECT_EQ(TrailerSignature(key_, kDate, kScope, final_sig, "first:1st\nsecond:2nd\nthird:3rd\n"),
            kTrailer);

  // The framed body of the example is exactly the declared Content-Length (66824).
  std::string framed;
  for (const auto& [data, sig] : {std::pair<std::string_view, std::string_view>{chunk1, sig1},
                                  {chunk2, sig2},
                                  {"", final_sig}}) {
    char size_hex[16];
    std::snprintf(size_hex, sizeof(size_hex), "%zx", data.size());
    framed.append(size_hex).append(";chunk-signature=").append(sig).append("\r\n");
    framed.append(data).append("\r\n");
  }
  EXPECT_EQ(framed.size(), 66824u);
}

TEST_F(ChunkedExampleTest, ChunkSignatureDependsOnEveryInput) {
  const std::string base = ChunkSignature(key_, kDate, kScope, kSeed, kEmptySha256Hex);
  EXPECT_NE(ChunkSignature(key_, kDate, kScope, kChunk1, kEmptySha256Hex), base);
  EXPECT_NE(ChunkSignature(key_, "20130524T000001Z", kScope, kSeed, kEmptySha256Hex), base);
  EXPECT_NE(ChunkSignature(key_, kDate, kScope, kSeed, Sha256Hex("x")), base);
  EXPECT_NE(ChunkSignature(DeriveSigningKey("other", "20130524", "us-east-1", "s3"), kDate, kScope,
                           kSeed, kEmptySha256Hex),
            base);
}

TEST(AmzDateTest, ParsesAndFormatsIso8601Basic) {
  EXPECT_EQ(ParseAmzDate("19700101T000000Z"), 0);
  EXPECT_EQ(ParseAmzDate("20150830T123600Z"), 1440938160);
  EXPECT_EQ(ParseAmzDate("20240229T235959Z"), 1709251199);  // Leap day.
  EXPECT_EQ(FormatAmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(0), "19700101T000000Z");
  EXPECT_EQ(FormatAmzDate(1709251199), "20240229T235959Z");
  for (int64_t t = 946684800; t < 946684800 + 400LL * 86400 * 366; t += 86400 * 7 + 3661) {
    ASSERT_EQ(ParseAmzDate(FormatAmzDate(t)), t);
  }
}

TEST(AmzDateTest, RejectsMalformedDates) {
  for (const char* bad :
       {"", "20150830T123600", "20150830T123600z", "2015-08-30T12:36:00Z", "20150830 123600Z",
        "20151330T123600Z", "20150431T123600Z", "20230229T000000Z", "20150830T243600Z",
        "20150830T126000Z", "20150830T123660Z", "2015083OT123600Z", "20150830T123600Z "}) {
    EXPECT_FALSE(ParseAmzDate(bad).has_value()) << bad;
  }
}

TEST(AmzDateTest, ParsesHttpDate) {
  EXPECT_EQ(ParseHttpDate("Fri, 24 May 2013 00:00:00 GMT"), *ParseAmzDate("20130524T000000Z"));
  EXPECT_EQ(ParseHttpDate("Sun, 30 Aug 2015 12:36:00 GMT"), 1440938160);
  for (const char* bad : {"", "Fri, 24 May 2013 00:00:00 UTC", "Fri, 24 Mai 2013 00:00:00 GMT",
                          "Fri, 31 Apr 2013 00:00:00 GMT", "Friday, 24-May-13 00:00:00 GMT",
                          "Fri May 24 00:00:00 2013", "Fri, 24 May 2013 0:00:00 GMT"}) {
    EXPECT_FALSE(ParseHttpDate(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace osprey::auth
