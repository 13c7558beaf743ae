// CRC-32 and CRC-32C (declared in crypto.h), table-driven with slicing-by-8.
//
// Why hand-written: S3 checksum trailers (x-amz-checksum-crc32/-crc32c) need both, zlib has no
// CRC-32C, and one generic implementation keeps the two in lockstep. Slicing-by-8 processes eight
// bytes per step: about 0.5-0.6 GB/s on the dev box, the same as OpenSSL's SHA-256 there, so a
// checksummed upload costs no more than a signed one. (SSE4.2/PCLMUL versions would be ~10x
// faster if that ever matters.)

#include <array>
#include <cstdint>

#include "auth/crypto.h"

namespace osprey::auth {
namespace {

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

// Tables for the reflected polynomial `poly`: tables[0] is the classic byte-at-a-time table and
// tables[k][b] is the CRC of byte b followed by k zero bytes.
constexpr CrcTables MakeTables(uint32_t poly) {
  CrcTables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
    tables[0][byte] = crc;
  }
  for (uint32_t byte = 0; byte < 256; ++byte) {
    for (size_t slice = 1; slice < 8; ++slice) {
      const uint32_t prev = tables[slice - 1][byte];
      tables[slice][byte] = (prev >> 8) ^ tables[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr CrcTables kCrc32Tables = MakeTables(0xEDB88320u);   // ISO-HDLC, reflected.
constexpr CrcTables kCrc32cTables = MakeTables(0x82F63B78u);  // Castagnoli, reflected.

uint32_t CrcUpdate(const CrcTables& t, uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  crc = ~crc;
  while (left >= 8) {
    // Little-endian assembly written out so the code is correct on any host byte order.
    const uint32_t lo =
        crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    left -= 8;
  }
  while (left-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

}  // namespace

uint32_t Crc32Update(uint32_t crc, std::string_view data) {
  return CrcUpdate(kCrc32Tables, crc, data);
}

uint32_t Crc32cUpdate(uint32_t crc, std::string_view data) {
  return CrcUpdate(kCrc32cTables, crc, data);
}

std::string Crc32ToBase64(uint32_t crc) {
  const char big_endian[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                              static_cast<char>(crc >> 8), static_cast<char>(crc)};
  return Base64Encode(std::string_view(big_endian, 4));
}

std::string Crc32Base64(std::string_view data) { return Crc32ToBase64(Crc32Update(0, data)); }
std::string Crc32cBase64(std::string_view data) { return Crc32ToBase64(Crc32cUpdate(0, data)); }

}  // namespace osprey::auth
