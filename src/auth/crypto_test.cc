#include "auth/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace osprey::auth {
namespace {

// FIPS 180-2 / RFC 1321 / RFC 4231 known answers.
TEST(CryptoTest, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha256Hex);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Raw("abc").size(), 32u);
  EXPECT_EQ(HexEncode(Sha256Raw("abc")), Sha256Hex("abc"));
}

TEST(CryptoTest, Sha256HasherMatchesOneShotAndIsReusable) {
  Sha256Hasher hasher;
  hasher.Update("a");
  hasher.Update("");
  hasher.Update("bc");
  EXPECT_EQ(hasher.FinishHex(), Sha256Hex("abc"));
  // After Finish the hasher starts over.
  EXPECT_EQ(hasher.FinishHex(), kEmptySha256Hex);
  hasher.Update("abc");
  EXPECT_EQ(hasher.FinishRaw(), Sha256Raw("abc"));

  const std::string million(1000000, 'a');
  Sha256Hasher chunked;
  for (size_t pos = 0; pos < million.size(); pos += 4096) {
    chunked.Update(std::string_view(million).substr(pos, 4096));
  }
  EXPECT_EQ(chunked.FinishHex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(CryptoTest, HasherCanBeMoved) {
  Sha256Hasher first;
  first.Update("ab");
  Sha256Hasher second(std::move(first));
  second.Update("c");
  EXPECT_EQ(second.FinishHex(), Sha256Hex("abc"));
}

TEST(CryptoTest, Md5KnownAnswers) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  Md5Hasher hasher;
  hasher.Update("message ");
  hasher.Update("digest");
  EXPECT_EQ(hasher.FinishHex(), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(CryptoTest, Sha1KnownAnswer) {
  Sha1Hasher hasher;
  hasher.Update("abc");
  EXPECT_EQ(hasher.FinishHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Base64("abc"), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
}

TEST(CryptoTest, HmacSha256Rfc4231) {
  // Test case 1.
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, HmacSha256EmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(CryptoTest, HexEncode) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\x7f\x80\xff", 5)), "00017f80ff");
}

// RFC 4648 section 10 test vectors.
TEST(CryptoTest, Base64RoundTripsRfc4648) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
  std::string all_bytes;
  for (int value = 0; value < 256; ++value) all_bytes.push_back(static_cast<char>(value));
  auto decoded = Base64Decode(Base64Encode(all_bytes));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, all_bytes);
}

TEST(CryptoTest, Base64DecodeIsStrict) {
  const char* bad[] = {
      "Zg",        // Missing padding.
      "Zg=",       // Length not a multiple of 4.
      "Zm9v!A==",  // Character outside the alphabet.
      "Zm 9v",     // Whitespace.
      "Z===",      // Too much padding.
      "=Zm9",      // Padding first.
      "Zg==Zg==",  // Padding in the middle.
      "Zh==",      // Non-zero bits under the padding ("Zg==" is canonical).
      "Zm9=",      // Same, one padding character.
      "Zm9v-_==",  // URL-safe alphabet is not accepted.
  };
  for (const char* text : bad) {
    auto decoded = Base64Decode(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

// CRC catalogue check values for "123456789", and the AWS base64 form.
TEST(CryptoTest, CrcCheckValues) {
  EXPECT_EQ(Crc32Update(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32cUpdate(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32Update(0, ""), 0u);
  EXPECT_EQ(Crc32ToBase64(0xCBF43926u), Base64Encode(std::string("\xCB\xF4\x39\x26", 4)));
  EXPECT_EQ(Crc32Base64("123456789"), "y/Q5Jg==");
  EXPECT_EQ(Crc32cBase64("123456789"), "4waSgw==");
}

TEST(CryptoTest, CrcIsIncrementalAcrossAllSplitPoints) {
  std::string data;
  for (int idx = 0; idx < 100; ++idx) data.push_back(static_cast<char>(idx * 37 + 11));
  const uint32_t whole32 = Crc32Update(0, data);
  const uint32_t whole32c = Crc32cUpdate(0, data);
  for (size_t split = 0; split <= data.size(); ++split) {
    const std::string_view head = std::string_view(data).substr(0, split);
    const std::string_view tail = std::string_view(data).substr(split);
    EXPECT_EQ(Crc32Update(Crc32Update(0, head), tail), whole32) << split;
    EXPECT_EQ(Crc32cUpdate(Crc32cUpdate(0, head), tail), whole32c) << split;
  }
}

TEST(CryptoTest, Sha256Base64) {
  EXPECT_EQ(Sha256Base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

}  // namespace
}  // namespace osprey::auth
