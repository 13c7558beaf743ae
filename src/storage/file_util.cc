#include "storage/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/ids.h"

namespace osprey::storage {

std::string ErrnoText(int err) { return std::strerror(err); }

namespace {
Status IoError(const std::string& what, int err) {
  // ENOSPC and EDQUOT are the user's to fix; everything else is ours.
  return Status::Internal(what + ": " + ErrnoText(err));
}
}  // namespace

Result<TempFile> TempFile::Create(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / (".tmp-" + NewUuid());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + path.string(), errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return IoError("cannot stat " + path.string(), err);
  }
  return TempFile(std::move(path), fd, static_cast<uint64_t>(st.st_ino));
}

TempFile::TempFile(TempFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      inode_(other.inode_),
      committed_(other.committed_) {
  other.fd_ = -1;
  other.committed_ = true;  // the moved-from object owns nothing
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

Status TempFile::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write failed", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status TempFile::AppendFrom(int src_fd, int64_t length) {
  // copy_file_range keeps the bytes in the kernel (and may share extents on CoW file systems);
  // it can refuse (EXDEV, EINVAL, ENOSYS on old kernels), so fall back to read/write.
  off_t src_offset = 0;
  while (length > 0) {
    ssize_t n =
        ::copy_file_range(src_fd, &src_offset, fd_, nullptr, static_cast<size_t>(length), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
      break;
    if (n < 0) return IoError("copy failed", errno);
    if (n == 0) return Status::Internal("source file is shorter than expected");
    length -= n;
  }
  std::string buffer(static_cast<size_t>(std::min<int64_t>(length, 1 << 20)), '\0');
  while (length > 0) {
    ssize_t n = ::pread(src_fd, buffer.data(), std::min<size_t>(buffer.size(), length), src_offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read failed", errno);
    if (n == 0) return Status::Internal("source file is shorter than expected");
    OSPREY_RETURN_IF_ERROR(Append(std::string_view(buffer.data(), static_cast<size_t>(n))));
    src_offset += n;
    length -= n;
  }
  return Status::Ok();
}

Status TempFile::Sync() {
  if (::fsync(fd_) != 0) return IoError("fsync failed", errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return IoError("close failed", errno);
  return Status::Ok();
}

Status TempFile::RenameTo(const std::filesystem::path& target) {
  if (::rename(path_.c_str(), target.c_str()) != 0) {
    return IoError("cannot rename to " + target.string(), errno);
  }
  committed_ = true;
  return Status::Ok();
}

Status TempFile::Commit(const std::filesystem::path& target) {
  OSPREY_RETURN_IF_ERROR(Sync());
  OSPREY_RETURN_IF_ERROR(RenameTo(target));
  return FsyncDir(target.parent_path());
}

Status FsyncDir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory " + dir.string(), err);
  return Status::Ok();
}

Status WriteFileAtomic(const std::filesystem::path& tmp_dir, const std::filesystem::path& target,
                       std::string_view data) {
  OSPREY_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(tmp_dir));
  OSPREY_RETURN_IF_ERROR(file.Append(data));
  return file.Commit(target);
}

}  // namespace osprey::storage
