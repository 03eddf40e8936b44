#include "gateway/admin/status_schema.h"

#include <algorithm>

#include "base/status.h"
#include "gateway/admin/admin_util.h"

namespace sluice::gateway {
namespace {

// A member of the document: a value (json set) or an object of members.
struct Node {
  std::string_view key;
  std::string json;
  std::vector<Node> members;
};

void Insert(Node& root, std::string_view pointer, const std::string& json) {
  Node* n = &root;
  pointer.remove_prefix(1);  // the leading '/'
  for (;;) {
    const auto slash = pointer.find('/');
    const std::string_view key = pointer.substr(0, slash);
    auto it = std::find_if(n->members.begin(), n->members.end(),
                           [key](const Node& m) { return m.key == key; });
    if (it == n->members.end()) it = n->members.insert(n->members.end(), Node{key, {}, {}});
    n = &*it;
    if (slash == std::string_view::npos) break;
    pointer.remove_prefix(slash + 1);
  }
  n->json = json;
}

void Write(const Node& n, std::string& out) {
  if (!n.json.empty()) {
    out += n.json;
    return;
  }
  out += '{';
  for (std::size_t i = 0; i < n.members.size(); ++i) {
    if (i > 0) out += ',';
    out += admin::JsonString(n.members[i].key);
    out += ':';
    Write(n.members[i], out);
  }
  out += '}';
}

}  // namespace

void StatusDoc::Put(const StatusField& field, StatusKind kind, std::string json) {
  SLUICE_CHECK(field.kind == kind);
  SLUICE_CHECK(field.pointer.starts_with('/'));
  values_.emplace_back(field.pointer, std::move(json));
}

void StatusDoc::SetString(const StatusField& field, std::string_view value) {
  Put(field, StatusKind::kString, admin::JsonString(value));
}

void StatusDoc::SetNumber(const StatusField& field, std::optional<double> value) {
  Put(field, StatusKind::kNumber, value ? admin::JsonDouble(*value) : "null");
}

void StatusDoc::SetBool(const StatusField& field, bool value) {
  Put(field, StatusKind::kBool, value ? "true" : "false");
}

void StatusDoc::SetStrings(const StatusField& field, const std::vector<std::string>& values) {
  std::string json = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    json += (i ? "," : "") + admin::JsonString(values[i]);
  }
  Put(field, StatusKind::kStrings, json + "]");
}

void StatusDoc::SetCounts(const StatusField& field,
                          const std::vector<std::pair<std::string_view, std::uint64_t>>& counts) {
  std::string json = "{";
  for (std::size_t i = 0; i < counts.size(); ++i) {
    json += (i ? "," : "") + admin::JsonString(counts[i].first) + ":" +
            std::to_string(counts[i].second);
  }
  Put(field, StatusKind::kCounts, json + "}");
}

void StatusDoc::SetJson(const StatusField& field, std::string json) {
  Put(field, StatusKind::kJson, std::move(json));
}

std::string StatusDoc::Json() const {
  Node root;
  for (const auto& [pointer, json] : values_) Insert(root, pointer, json);
  std::string out;
  Write(root, out);
  return out;
}

}  // namespace sluice::gateway
