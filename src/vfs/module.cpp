// Driver modules (NetBSD's ukfs_modload and ukfs_modload_dir conventions).
#include "vfs/module.hpp"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "vfs/registry.hpp"

namespace uk::vfs {

Result<ModuleLoad> load_module(const std::string& path) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
        const char* msg = dlerror();
        if (msg && std::strstr(msg, "undefined symbol"))
            return ModuleLoad::retry_later;
        return Error::sys(ENOENT, fmt::format("{}: {}", path, msg ? msg : "cannot load"));
    }
    using Init = int (*)(Registry*);
    auto init = reinterpret_cast<Init>(dlsym(handle, "ukfs_module_init"));
    if (!init) {
        dlclose(handle);
        return Error::sys(EINVAL, path + ": not a ukfs module (no ukfs_module_init)");
    }
    if (int err = init(&Registry::global()); err != 0) {
        dlclose(handle);
        return Error::sys(err, path + ": module initialisation failed");
    }
    return ModuleLoad::loaded;  // the handle stays open: the registry holds its functions
}

Result<int> load_module_dir(const std::string& dir) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d)
        return Error::sys(errno, dir);
    std::vector<std::string> pending;
    const std::string prefix = module_prefix, suffix = module_suffix;
    while (dirent* e = readdir(d.get())) {
        std::string name = e->d_name;
        if (name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) &&
            name.ends_with(suffix))
            pending.push_back(dir + "/" + name);
    }
    std::sort(pending.begin(), pending.end());
    int loaded = 0;
    std::optional<Error> first_error;
    // Modules may depend on each other: retry those that wait until a round loads nothing.
    for (bool progress = true; progress && !pending.empty();) {
        progress = false;
        std::vector<std::string> waiting;
        for (const std::string& path : pending) {
            auto r = load_module(path);
            if (!r) {
                if (!first_error)
                    first_error = r.error();
            } else if (*r == ModuleLoad::loaded) {
                ++loaded;
                progress = true;
            } else {
                waiting.push_back(path);
            }
        }
        pending = std::move(waiting);
    }
    if (loaded == 0 && first_error)
        return *first_error;
    return loaded;
}

}  // namespace uk::vfs
