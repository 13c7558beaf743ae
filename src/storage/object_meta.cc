#include "storage/object_meta.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "auth/crypto.h"

namespace osprey::storage {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\n')
      out += "%0A";
    else if (c == '\r')
      out += "%0D";
    else
      out += c;
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      std::string hex(s.substr(i + 1, 2));
      out += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<ObjectInfo> RebuildFromData(const std::filesystem::path& data_path, std::string key,
                                   int64_t data_size) {
  std::ifstream in(data_path, std::ios::binary);
  if (!in) return Status::NotFound("The specified key does not exist: " + key);
  auth::Md5Hasher md5;
  std::string buffer(1 << 20, '\0');
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    md5.Update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  ObjectInfo info;
  info.key = std::move(key);
  info.size = data_size;
  info.etag = md5.FinishHex();
  struct stat st;
  if (::stat(data_path.c_str(), &st) == 0) {
    info.last_modified_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000;
  }
  return info;
}

}  // namespace

std::string EncodeObjectMeta(const ObjectInfo& info, uint64_t data_inode) {
  std::ostringstream out;
  out << "inode=" << data_inode << "\n"
      << "size=" << info.size << "\n"
      << "etag=" << Escape(info.etag) << "\n"
      << "content_type=" << Escape(info.content_type) << "\n"
      << "last_modified_ms=" << info.last_modified_ms << "\n";
  for (const auto& [name, value] : info.user_metadata) {
    out << "meta." << Escape(name) << "=" << Escape(value) << "\n";
  }
  return out.str();
}

std::string MetaLine(std::string_view name, std::string_view value) {
  return Escape(name) + "=" + Escape(value) + "\n";
}

void DecodeObjectMeta(std::string_view text, ObjectInfo* info, uint64_t* inode,
                      std::map<std::string, std::string>* extra) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = Unescape(std::string_view(line).substr(0, eq));
    std::string value = Unescape(std::string_view(line).substr(eq + 1));
    if (name == "inode")
      *inode = std::strtoull(value.c_str(), nullptr, 10);
    else if (name == "size")
      info->size = std::strtoll(value.c_str(), nullptr, 10);
    else if (name == "etag")
      info->etag = value;
    else if (name == "content_type")
      info->content_type = value;
    else if (name == "last_modified_ms")
      info->last_modified_ms = std::strtoll(value.c_str(), nullptr, 10);
    else if (name.rfind("meta.", 0) == 0)
      info->user_metadata[name.substr(5)] = value;
    else if (extra != nullptr)
      (*extra)[name] = value;
  }
}

Result<ObjectInfo> ReadObjectMeta(const std::filesystem::path& meta_path,
                                  const std::filesystem::path& data_path, std::string key,
                                  uint64_t data_inode, int64_t data_size) {
  std::ifstream in(meta_path);
  std::stringstream text;
  text << in.rdbuf();
  ObjectInfo info;
  info.key = key;
  uint64_t inode = 0;
  DecodeObjectMeta(text.str(), &info, &inode, nullptr);
  if (inode != data_inode || info.size != data_size) {
    return RebuildFromData(data_path, std::move(key), data_size);
  }
  return info;
}

}  // namespace osprey::storage
