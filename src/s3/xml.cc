#include "s3/xml.h"

#include <cstdint>

namespace osprey::s3 {

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

XmlWriter::XmlWriter(std::string_view root, bool with_namespace) : root_(root) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + root_;
  if (with_namespace) out_ += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
  out_ += ">";
}
void XmlWriter::Open(std::string_view name) { out_ += "<" + std::string(name) + ">"; }
void XmlWriter::Close(std::string_view name) { out_ += "</" + std::string(name) + ">"; }
void XmlWriter::Element(std::string_view name, std::string_view text) {
  Open(name);
  out_ += XmlEscape(text);
  Close(name);
}
std::string XmlWriter::Finish() {
  Close(root_);
  return std::move(out_);
}

const XmlNode* XmlNode::Child(std::string_view child_name) const {
  for (const XmlNode& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, size_t max_depth, size_t max_nodes)
      : text_(text), max_depth_(max_depth), max_nodes_(max_nodes) {}

  Result<XmlNode> Document() {
    SkipMisc();
    if (!Peek('<')) return Bad("expected a root element");
    XmlNode root;
    OSPREY_RETURN_IF_ERROR(Element(root, 1));
    SkipMisc();
    if (pos_ != text_.size()) return Bad("content after the root element");
    return root;
  }

 private:
  Status Bad(const std::string& why) const {
    return Status::InvalidArgument("The XML you provided was not well-formed: " + why);
  }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool StartsWith(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  // Whitespace, comments and processing instructions (<?xml ...?>) between elements.
  void SkipMisc() {
    while (true) {
      SkipSpace();
      if (StartsWith("<?")) {
        size_t end = text_.find("?>", pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end + 2;
      } else if (StartsWith("<!--")) {
        size_t end = text_.find("-->", pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end + 3;
      } else {
        return;
      }
    }
  }
  std::string Name() {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n/>=").find(text_[pos_]) == std::string_view::npos)
      ++pos_;
    std::string name(text_.substr(start, pos_ - start));
    size_t colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }
  Status Attributes() {
    while (true) {
      SkipSpace();
      if (Peek('>') || Peek('/') || pos_ >= text_.size()) return Status::Ok();
      if (Name().empty()) return Bad("bad attribute");
      SkipSpace();
      if (!Peek('=')) return Bad("attribute without value");
      ++pos_;
      SkipSpace();
      if (!Peek('"') && !Peek('\'')) return Bad("unquoted attribute");
      char quote = text_[pos_++];
      size_t end = text_.find(quote, pos_);
      if (end == std::string_view::npos) return Bad("unterminated attribute");
      pos_ = end + 1;
    }
  }
  Status Entity(std::string& out) {
    size_t end = text_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 10) return Bad("bad entity");
    std::string_view name = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    if (name == "amp")
      out += '&';
    else if (name == "lt")
      out += '<';
    else if (name == "gt")
      out += '>';
    else if (name == "quot")
      out += '"';
    else if (name == "apos")
      out += '\'';
    else if (name.size() > 1 && name[0] == '#') {
      bool hex = name[1] == 'x';
      std::string digits(name.substr(hex ? 2 : 1));
      if (digits.empty()) return Bad("bad character reference");
      char* stop = nullptr;
      unsigned long cp = std::strtoul(digits.c_str(), &stop, hex ? 16 : 10);
      if (*stop != '\0' || cp == 0 || cp > 0x10FFFF) return Bad("bad character reference");
      AppendUtf8(static_cast<uint32_t>(cp), out);
    } else {
      return Bad("unknown entity");
    }
    return Status::Ok();
  }
  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // REQUIRES: at '<' of a start tag.
  Status Element(XmlNode& node, size_t depth) {
    if (depth > max_depth_) return Bad("nested too deeply");
    if (++nodes_ > max_nodes_) return Bad("too many elements");
    ++pos_;
    if (Peek('!')) return Bad("DOCTYPE and CDATA are not accepted");
    node.name = Name();
    if (node.name.empty()) return Bad("empty element name");
    OSPREY_RETURN_IF_ERROR(Attributes());
    if (StartsWith("/>")) {
      pos_ += 2;
      return Status::Ok();
    }
    if (!Peek('>')) return Bad("unterminated start tag");
    ++pos_;
    while (pos_ < text_.size()) {
      if (StartsWith("</")) {
        pos_ += 2;
        if (Name() != node.name) return Bad("mismatched end tag");
        SkipSpace();
        if (!Peek('>')) return Bad("unterminated end tag");
        ++pos_;
        return Status::Ok();
      }
      if (StartsWith("<!--") || StartsWith("<?")) {
        SkipMisc();
      } else if (Peek('<')) {
        node.children.emplace_back();
        OSPREY_RETURN_IF_ERROR(Element(node.children.back(), depth + 1));
      } else if (Peek('&')) {
        OSPREY_RETURN_IF_ERROR(Entity(node.text));
      } else {
        node.text += text_[pos_++];
      }
    }
    return Bad("unexpected end of document");
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t max_depth_;
  size_t max_nodes_;
  size_t nodes_ = 0;
};

}  // namespace

Result<XmlNode> ParseXml(std::string_view text, size_t max_depth, size_t max_nodes) {
  return Parser(text, max_depth, max_nodes).Document();
}

}  // namespace osprey::s3
