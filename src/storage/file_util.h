// Small POSIX file helpers for crash-safe writes. Internal to storage/ and metadata/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace osprey::storage {

// An open file being written; removed on destruction unless Commit() succeeded.
class TempFile {
 public:
  // Creates a uniquely named file in `dir`.
  static Result<TempFile> Create(const std::filesystem::path& dir);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();

  Status Append(std::string_view data);
  // fsyncs and closes the file, renames it to `target` and fsyncs target's directory.
  Status Commit(const std::filesystem::path& target);
  // The two halves of Commit without the directory fsync, for callers that rename several files
  // into one directory and fsync it once: Sync() (fsync + close), then RenameTo().
  Status Sync();
  Status RenameTo(const std::filesystem::path& target);
  const std::filesystem::path& path() const { return path_; }
  // Inode number of the file (stable across the rename).
  uint64_t inode() const { return inode_; }
  // Appends the first `length` bytes of the open file `src_fd` (kernel-side copy where possible).
  Status AppendFrom(int src_fd, int64_t length);

 private:
  TempFile(std::filesystem::path path, int fd, uint64_t inode)
      : path_(std::move(path)), fd_(fd), inode_(inode) {}
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t inode_ = 0;
  bool committed_ = false;
};

// Writes `data` to `target` atomically (temp file in `tmp_dir` -> fsync -> rename -> fsync dir).
Status WriteFileAtomic(const std::filesystem::path& tmp_dir, const std::filesystem::path& target,
                       std::string_view data);
Status FsyncDir(const std::filesystem::path& dir);
// Error text for errno, e.g. "No space left on device".
std::string ErrnoText(int err);

}  // namespace osprey::storage
