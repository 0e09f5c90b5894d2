// The settings of `roster serve`: every option of the command is a setting, reachable
// three ways, and the later wins:
//
//   default  <  config file (--config FILE, TOML)  <  ROSTER_* variable  <  flag
//
// A setting's config key is its flag without the dashes (`--tls-cert` -> `tls-cert`),
// its variable ROSTER_ and the key in capitals with '_' for '-' (ROSTER_TLS_CERT). So
// a new `serve` flag is a setting in all three places, and in `roster config show`,
// with no other line to write.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace roster::cli {

enum class SettingSource { kDefault, kFile, kEnvironment, kFlag };
const char* SourceName(SettingSource source);

struct Setting {
  std::string key;        // tls-cert
  std::string flag;       // --tls-cert
  std::string variable;   // ROSTER_TLS_CERT
  std::string help;
  std::string type;       // flag, text, integer, list
  std::string default_value;
  std::vector<std::string> values;  // effective; empty: unset
  SettingSource source = SettingSource::kDefault;
};

// Returns the variable's value or null (std::getenv in production; tests pass a map).
using Environment = std::function<const char*(const char*)>;

// Fills every option of `command` not given on its command line from the variable,
// else from the config file (`config_file`, empty: none), running each option's checks.
// Throws std::runtime_error naming the variable or the file and key of a bad value, or
// an unknown key. Returns every setting as it now stands.
std::vector<Setting> ApplySettings(CLI::App& command, const std::string& config_file,
                                   const Environment& environment);

// The setting's value for display, with passwords in URLs and DSNs replaced.
std::string DisplayValue(const Setting& setting);
// Replaces the password part of URLs (scheme://user:password@) and of key=value
// connection strings (password=...).
std::string RedactSecrets(std::string value);

}  // namespace roster::cli
