#include "cli/settings.h"

#include <toml++/toml.h>

#include <map>
#include <stdexcept>

namespace roster::cli {
namespace {

// The options that are settings: all but --help, --config itself, and the --json of
// `config show`.
bool IsSetting(const CLI::Option* o) {
  if (o->get_lnames().empty()) return false;
  const std::string& name = o->get_lnames().front();
  return name != "help" && name != "config" && name != "json";
}

std::string VariableFor(const std::string& key) {
  std::string out = "ROSTER_";
  for (char c : key) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool IsFlag(const CLI::Option* o) { return o->get_expected_max() == 0; }
bool IsList(const CLI::Option* o) { return o->get_items_expected_max() > 1; }

std::string TypeOf(const CLI::Option* o) {
  if (IsFlag(o)) return "flag";
  if (IsList(o)) return "list";
  const std::string t = o->get_type_name();
  if (t.find("INT") != std::string::npos) return "integer";
  return "text";
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto comma = v.find(',', start);
    const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// A TOML value as the option's text results.
std::vector<std::string> FromToml(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return {*s};
  if (node.is_integer()) return {std::to_string(*node.value<std::int64_t>())};
  if (node.is_boolean()) return {*node.value<bool>() ? "true" : "false"};
  if (node.is_floating_point()) return {std::to_string(*node.value<double>())};
  if (const toml::array* a = node.as_array()) {
    std::vector<std::string> out;
    for (const auto& item : *a) {
      if (item.is_array() || item.is_table()) throw std::runtime_error(where + " must be a list of values");
      auto one = FromToml(item, where);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }
  throw std::runtime_error(where + " must be a string, number, boolean or list");
}

void Apply(CLI::Option* o, const std::vector<std::string>& values, const std::string& where) {
  try {
    for (const auto& v : values) o->add_result(v);
    o->run_callback();
  } catch (const CLI::Error& e) {
    o->clear();
    throw std::runtime_error(where + ": " + e.what());
  }
}

}  // namespace

const char* SourceName(SettingSource source) {
  switch (source) {
    case SettingSource::kDefault: return "default";
    case SettingSource::kFile: return "file";
    case SettingSource::kEnvironment: return "environment";
    case SettingSource::kFlag: return "flag";
  }
  return "default";
}

std::vector<Setting> ApplySettings(CLI::App& command, const std::string& config_file,
                                   const Environment& environment) {
  toml::table table;
  if (!config_file.empty()) {
    try {
      table = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error(config_file + ": " + std::string(e.description()));
    }
  }
  std::map<std::string, CLI::Option*> options;
  for (CLI::Option* o : command.get_options(IsSetting)) options[o->get_lnames().front()] = o;
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (!options.contains(name))
      throw std::runtime_error(config_file + ": unknown key '" + name + "' (keys are the flags of 'roster " +
                               command.get_name() + "' without the dashes)");
  }

  std::vector<Setting> out;
  for (CLI::Option* o : command.get_options(IsSetting)) {
    Setting s;
    s.key = o->get_lnames().front();
    s.flag = "--" + s.key;
    s.variable = VariableFor(s.key);
    s.help = o->get_description();
    s.type = TypeOf(o);
    s.default_value = o->get_default_str();
    if (o->count() > 0) {
      s.source = SettingSource::kFlag;
    } else if (const char* v = environment(s.variable.c_str()); v != nullptr) {
      Apply(o, IsList(o) ? SplitList(v) : std::vector<std::string>{v}, s.variable);
      s.source = SettingSource::kEnvironment;
    } else if (auto node = table.get(s.key)) {
      const std::string where = config_file + ": key '" + s.key + "'";
      Apply(o, FromToml(*node, where), where);
      s.source = SettingSource::kFile;
    }
    s.values = o->results();
    out.push_back(std::move(s));
  }
  return out;
}

std::string RedactSecrets(std::string value) {
  // scheme://user:password@host
  if (const auto scheme = value.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = value.find('@', start);
    const auto slash = value.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = value.find(':', start);
      if (colon != std::string::npos && colon < at) value.replace(colon + 1, at - colon - 1, "REDACTED");
    }
  }
  // password=... in a keyword DSN or a URL's query
  for (std::size_t at = value.find("password="); at != std::string::npos; at = value.find("password=", at + 1)) {
    const auto begin = at + 9;
    auto end = value.find_first_of("& ", begin);
    if (end == std::string::npos) end = value.size();
    value.replace(begin, end - begin, "REDACTED");
  }
  return value;
}

std::string DisplayValue(const Setting& setting) {
  std::string joined;
  for (const auto& v : setting.values) joined += (joined.empty() ? "" : ",") + v;
  if (setting.values.empty()) joined = setting.default_value;
  return RedactSecrets(joined);
}

}  // namespace roster::cli
