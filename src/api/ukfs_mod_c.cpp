// The C API's module functions and file system type list.
#include <ukfs/ukfs.h>

#include <cstring>

#include "api/c_call.hpp"
#include "vfs/module.hpp"
#include "vfs/registry.hpp"

using uk::Error;
using uk::Result;
using uk::api::c_call;

extern "C" {

int ukfs_modload(const char* fname) {
    return c_call<int>([&]() -> Result<int> {
        if (fname == nullptr)
            return Error::sys(EFAULT);
        auto r = UKFS_TRY(uk::vfs::load_module(fname));
        return r == uk::vfs::ModuleLoad::loaded ? 1 : 0;
    });
}

int ukfs_modload_dir(const char* dir) {
    return c_call<int>([&]() -> Result<int> {
        if (dir == nullptr)
            return Error::sys(EFAULT);
        return uk::vfs::load_module_dir(dir);
    });
}

ssize_t ukfs_vfstypes(char* buf, size_t buflen) {
    // NetBSD answers sysctl vfs.generic.fstypes: the names separated by spaces, with a NUL;
    // the length returned counts the NUL.
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        std::string list;
        for (const std::string& name : uk::vfs::Registry::global().names())
            list += (list.empty() ? "" : " ") + name;
        if (buf == nullptr || buflen < list.size() + 1)
            return Error::sys(ENOMEM, "buffer too small for the type list");
        std::memcpy(buf, list.c_str(), list.size() + 1);
        return list.size() + 1;
    });
}

}  // extern "C"
