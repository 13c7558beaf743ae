// LocalObjectStore::ListObjects: a directory walk limited to the prefix's directory part, then an
// S3-style roll-up of keys into common prefixes. With the usual delimiter "/", a directory that
// lies wholly beyond the prefix is one common prefix, so the walk stops there instead of visiting
// every key below it (listing the top of a big bucket stays cheap).
#include <algorithm>
#include <system_error>

#include "storage/local_object_store.h"

namespace osprey::storage {
namespace fs = std::filesystem;

namespace {
constexpr char kDataFile[] = ".osprey.obj";

bool IsInternal(const std::string& name) { return name.rfind(".osprey", 0) == 0 || name == ".tmp"; }

// True if any object lives strictly below `dir`.
bool HoldsObjects(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    if (IsInternal(entry.path().filename().string())) continue;
    if (fs::exists(entry.path() / kDataFile, ec) || HoldsObjects(entry.path())) return true;
  }
  return false;
}

// Collects keys under `dir` (whose key prefix is `dir_key`, "" or ending in '/') that start
// with `prefix` and sort after `start_after`. With delimiter "/", a directory beyond the prefix
// adds "<key>/" (a common-prefix marker) instead of its contents.
void Walk(const fs::path& dir, const std::string& dir_key, const ListOptions& options,
          std::vector<std::string>* keys) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    std::string name = entry.path().filename().string();
    if (IsInternal(name)) continue;
    std::string key = dir_key + name;
    // Prune subtrees that cannot hold a key with the prefix.
    size_t common = std::min(key.size(), options.prefix.size());
    if (key.compare(0, common, options.prefix, 0, common) != 0) continue;
    if (fs::exists(entry.path() / kDataFile, ec) && key.rfind(options.prefix, 0) == 0 &&
        key > options.start_after) {
      keys->push_back(key);
    }
    if (options.delimiter == "/" && key.size() >= options.prefix.size()) {
      if (HoldsObjects(entry.path())) keys->push_back(key + "/");
      continue;
    }
    Walk(entry.path(), key + "/", options, keys);
  }
}

}  // namespace

Result<ListResult> LocalObjectStore::ListObjects(std::string_view bucket,
                                                 const ListOptions& options) const {
  if (!BucketExists(bucket)) {
    return Status::NotFound("The specified bucket does not exist: " + std::string(bucket));
  }
  fs::path bucket_dir = root() / std::string(bucket);
  // Start the walk at the deepest directory named fully by the prefix.
  std::string start_key;
  size_t slash = options.prefix.rfind('/');
  fs::path start_dir = bucket_dir;
  if (slash != std::string::npos) {
    start_key = options.prefix.substr(0, slash + 1);
    Result<fs::path> dir = ObjectDir(bucket, options.prefix.substr(0, slash));
    if (!dir.ok()) return ListResult{};
    start_dir = *dir;
  }
  std::vector<std::string> keys;
  Walk(start_dir, start_key, options, &keys);
  std::sort(keys.begin(), keys.end());
  ListResult result;
  size_t returned = 0;
  for (const std::string& key : keys) {
    size_t cut = options.delimiter.empty() ? std::string::npos
                                           : key.find(options.delimiter, options.prefix.size());
    std::string common_prefix =
        cut == std::string::npos ? "" : key.substr(0, cut + options.delimiter.size());
    if (!common_prefix.empty() &&
        (common_prefix <= options.start_after || common_prefix == result.last_returned)) {
      continue;  // already returned (this page or an earlier one)
    }
    if (returned >= options.max_keys) {
      result.truncated = options.max_keys > 0;
      break;
    }
    if (!common_prefix.empty()) {
      result.common_prefixes.push_back(common_prefix);
      result.last_returned = common_prefix;
      ++returned;
      continue;
    }
    Result<ObjectInfo> info = HeadObject(bucket, key);
    if (!info.ok()) continue;  // deleted while listing
    result.objects.push_back(std::move(info).value());
    result.last_returned = key;
    ++returned;
  }
  return result;
}

}  // namespace osprey::storage
