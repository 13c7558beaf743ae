#include "s3/aws_chunked.h"

#include <gtest/gtest.h>

#include "auth/sigv4.h"

namespace osprey::s3 {
namespace {

// The AWS S3 documentation example (sigv4-streaming.html), also in aws-c-auth's
// tests/test_chunked_signing.c: 66,560 bytes of 'a' in chunks of 65,536 + 1,024 + 0.
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kSeed[] = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr char kChunk1[] = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr char kChunk2[] = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr char kFinal[] = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

ChunkSigning ExampleSigning() {
  return ChunkSigning{auth::DeriveSigningKey(kSecret, "20130524", "us-east-1", "s3"),
                      "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", kSeed};
}

std::string ExampleBody() {
  return "10000;chunk-signature=" + std::string(kChunk1) + "\r\n" + std::string(65536, 'a') +
         "\r\n400;chunk-signature=" + kChunk2 + "\r\n" + std::string(1024, 'a') +
         "\r\n0;chunk-signature=" + kFinal + "\r\n\r\n";
}

// Feeds `body` in pieces of `step` bytes; returns the decoded bytes or the error code.
std::pair<bool, std::string> Decode(AwsChunkedDecoder& decoder, const std::string& body,
                                    size_t step, std::string* error_code) {
  std::string out;
  for (size_t pos = 0; pos < body.size(); pos += step) {
    if (!decoder.Feed(std::string_view(body).substr(pos, step), [&](std::string_view d) {
          out.append(d);
          return Status::Ok();
        })) {
      *error_code = decoder.error().code;
      return {false, out};
    }
  }
  if (!decoder.Finish()) {
    *error_code = decoder.error().code;
    return {false, out};
  }
  return {true, out};
}

TEST(AwsChunkedDecoderTest, AwsDocumentationExampleVerifiesAtAnySplit) {
  for (size_t step : {1u, 7u, 100u, 65536u, 1u << 20}) {
    AwsChunkedDecoder decoder(ExampleSigning(), /*signed_trailer=*/false);
    std::string code;
    auto [ok, out] = Decode(decoder, ExampleBody(), step, &code);
    ASSERT_TRUE(ok) << "step " << step << " " << code;
    EXPECT_EQ(out, std::string(66560, 'a'));
    EXPECT_EQ(decoder.decoded_bytes(), 66560);
  }
}

TEST(AwsChunkedDecoderTest, TamperedDataOrSignatureIsRejected) {
  std::string body = ExampleBody();
  body[body.find("\r\n") + 100] = 'b';  // one payload byte of chunk 1
  AwsChunkedDecoder decoder(ExampleSigning(), false);
  std::string code;
  EXPECT_FALSE(Decode(decoder, body, 4096, &code).first);
  EXPECT_EQ(code, "SignatureDoesNotMatch");

  std::string reordered = ExampleBody();
  reordered.replace(reordered.find(kChunk2), 64, kChunk1);
  AwsChunkedDecoder second(ExampleSigning(), false);
  EXPECT_FALSE(Decode(second, reordered, 4096, &code).first);
  EXPECT_EQ(code, "SignatureDoesNotMatch");

  ChunkSigning wrong_seed = ExampleSigning();
  wrong_seed.seed_signature = kChunk1;
  AwsChunkedDecoder third(wrong_seed, false);
  EXPECT_FALSE(Decode(third, ExampleBody(), 4096, &code).first);
}

TEST(AwsChunkedDecoderTest, BadFramingIsIncompleteBody) {
  std::string code;
  std::string full = ExampleBody();
  for (const std::string& body :
       {full.substr(0, full.size() - 40),                       // truncated before the final chunk
        full.substr(0, 5000),                                   // truncated mid-chunk
        "zz;chunk-signature=" + std::string(kChunk1) + "\r\n",  // not hex
        "fffffffffffffffffff;chunk-signature=" + std::string(kChunk1) + "\r\n",  // overflow
        "10000\r\n" + std::string(65536, 'a') + "\r\n",          // signature missing
        "10000;chunk-signature=" + std::string(kChunk1) + "\n",  // bare LF
        full + "extra"}) {
    AwsChunkedDecoder decoder(ExampleSigning(), false);
    EXPECT_FALSE(Decode(decoder, body, 999, &code).first) << body.substr(0, 40);
  }
  // A chunk longer than declared: the bytes after the declared size are not CRLF.
  std::string longer = "2;chunk-signature=" + std::string(kChunk1) + "\r\nabc\r\n";
  AwsChunkedDecoder decoder(ExampleSigning(), false);
  EXPECT_FALSE(Decode(decoder, longer, 999, &code).first);
  EXPECT_EQ(code, "IncompleteBody");
}

TEST(AwsChunkedDecoderTest, UnsignedChunksWithTrailer) {
  const std::string body =
      "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:" + auth::Crc32Base64("hello world") +
      "\r\n\r\n";
  AwsChunkedDecoder decoder(std::nullopt, false);
  std::string code;
  auto [ok, out] = Decode(decoder, body, 3, &code);
  ASSERT_TRUE(ok) << code;
  EXPECT_EQ(out, "hello world");
  EXPECT_EQ(decoder.trailers().at("x-amz-checksum-crc32"), auth::Crc32Base64("hello world"));
}

TEST(AwsChunkedDecoderTest, SignedTrailerIsVerified) {
  ChunkSigning signing = ExampleSigning();
  const std::string data = "hello";
  std::string sig1 = auth::ChunkSignature(signing.signing_key, signing.amz_date, signing.scope,
                                          signing.seed_signature, auth::Sha256Hex(data));
  std::string sig0 = auth::ChunkSignature(signing.signing_key, signing.amz_date, signing.scope,
                                          sig1, auth::kEmptySha256Hex);
  const std::string trailer = "x-amz-checksum-crc32c:" + auth::Crc32cBase64(data);
  std::string trailer_sig = auth::TrailerSignature(signing.signing_key, signing.amz_date,
                                                   signing.scope, sig0, trailer + "\n");
  std::string body = "5;chunk-signature=" + sig1 + "\r\nhello\r\n0;chunk-signature=" + sig0 +
                     "\r\n" + trailer + "\r\nx-amz-trailer-signature:" + trailer_sig + "\r\n\r\n";
  std::string code;
  AwsChunkedDecoder good(signing, /*signed_trailer=*/true);
  EXPECT_TRUE(Decode(good, body, 11, &code).first) << code;
  body.replace(body.find(trailer_sig), 64, std::string(64, '0'));
  AwsChunkedDecoder bad(signing, true);
  EXPECT_FALSE(Decode(bad, body, 11, &code).first);
  EXPECT_EQ(code, "SignatureDoesNotMatch");
}

}  // namespace
}  // namespace osprey::s3
