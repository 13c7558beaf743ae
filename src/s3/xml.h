// The little XML S3 needs: a writer for response documents and a small non-validating parser for
// the two request bodies we accept (CompleteMultipartUpload, Delete). No DTDs, no external
// entities, bounded depth and size, so hostile bodies cannot expand or recurse without limit.
// Plain value types, thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace osprey::s3 {

// Escapes &, <, >, " and ' for text and attribute values.
std::string XmlEscape(std::string_view text);

// Builds `<?xml ...?><Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/">...</Root>`.
class XmlWriter {
 public:
  XmlWriter(std::string_view root, bool with_namespace = true);
  void Open(std::string_view name);
  void Close(std::string_view name);
  void Element(std::string_view name, std::string_view text);
  // Closes the root and returns the document.
  std::string Finish();

 private:
  std::string root_;
  std::string out_;
};

struct XmlNode {
  std::string name;  // without any namespace prefix
  std::string text;  // concatenated character data, entities decoded
  std::vector<XmlNode> children;

  // First child named `name`, or nullptr.
  const XmlNode* Child(std::string_view child_name) const;
};

// Parses a document into its root element. Returns kInvalidArgument for anything malformed,
// a DOCTYPE, nesting deeper than `max_depth` or more than `max_nodes` elements.
Result<XmlNode> ParseXml(std::string_view text, size_t max_depth = 8, size_t max_nodes = 20000);

}  // namespace osprey::s3
