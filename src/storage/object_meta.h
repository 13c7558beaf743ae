// Encoding of an object's sidecar meta file (".osprey.meta"), internal to LocalObjectStore.
// Format: "name=value" lines, values percent-escaped for '%', '\n' and '\r'.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"
#include "storage/object_store.h"

namespace osprey::storage {

std::string EncodeObjectMeta(const ObjectInfo& info, uint64_t data_inode);

// One "name=value\n" line with the value escaped as above.
std::string MetaLine(std::string_view name, std::string_view value);
// Fills `info` (and `inode`) from the lines EncodeObjectMeta writes; other names go to `extra`.
void DecodeObjectMeta(std::string_view text, ObjectInfo* info, uint64_t* inode,
                      std::map<std::string, std::string>* extra);

// Reads the meta of a data file whose inode and size the caller has just seen. If the meta is
// missing or describes another inode (a crash between the data and meta renames), the meta is
// rebuilt from the data itself: size and MD5, no content type.
Result<ObjectInfo> ReadObjectMeta(const std::filesystem::path& meta_path,
                                  const std::filesystem::path& data_path, std::string key,
                                  uint64_t data_inode, int64_t data_size);

}  // namespace osprey::storage
