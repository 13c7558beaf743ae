// LocalObjectStore::ListObjects: a directory walk limited to the prefix's directory part.
#include <algorithm>
#include <system_error>

#include "storage/local_object_store.h"

namespace osprey::storage {
namespace fs = std::filesystem;

namespace {

// Collects keys under `dir` (whose key prefix is `dir_key`, "" or ending in '/') that start
// with `prefix` and sort after `start_after`.
void Walk(const fs::path& dir, const std::string& dir_key, const ListOptions& options,
          std::vector<std::string>* keys) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    std::string name = entry.path().filename().string();
    if (name.rfind(".osprey", 0) == 0 || name == ".tmp") continue;
    std::string key = dir_key + name;
    // Prune subtrees that cannot hold a key with the prefix.
    size_t common = std::min(key.size(), options.prefix.size());
    if (key.compare(0, common, options.prefix, 0, common) != 0) continue;
    if (fs::exists(entry.path() / ".osprey.obj", ec) && key.rfind(options.prefix, 0) == 0 &&
        key > options.start_after) {
      keys->push_back(key);
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
  for (const std::string& key : keys) {
    if (result.objects.size() >= options.max_keys) {
      result.truncated = true;
      break;
    }
    Result<ObjectInfo> info = HeadObject(bucket, key);
    if (info.ok()) result.objects.push_back(std::move(info).value());
  }
  return result;
}

}  // namespace osprey::storage
