// Driver modules: shared objects that register file system types, loaded at run time
// (ukfs_modload). A module defines
//     extern "C" int ukfs_module_init(uk::vfs::Registry* registry);
// returning 0 or an errno value. Modules are built with this project (the registry is C++).
#pragma once

#include <string>

#include "base/result.hpp"

namespace uk::vfs {

inline constexpr const char* module_prefix = "libukfs_fs_";
inline constexpr const char* module_suffix = ".so";

enum class ModuleLoad { loaded, retry_later };

// retry_later when the object needs a symbol not yet loaded (NetBSD returns 0 then).
Result<ModuleLoad> load_module(const std::string& path);
// Load every libukfs_fs_*.so of `dir`, retrying those that wait for others; the count loaded.
Result<int> load_module_dir(const std::string& dir);

}  // namespace uk::vfs
