// The C shim's one helper: run a C++ call, turn its Result into NetBSD's convention (-1 or
// NULL and errno), remember the message for ukfs_errmsg(), and let no exception escape.
#pragma once

#include <cerrno>
#include <new>
#include <string>
#include <type_traits>

#include "base/result.hpp"

namespace uk::api {

// The message of the calling thread's last failed call.
std::string& last_message();
void set_error(const Error& e);

template <class T>
struct CallTraits {
    static T failed() { return static_cast<T>(-1); }
};
template <class T>
struct CallTraits<T*> {
    static T* failed() { return nullptr; }
};

// fn returns Result<T>; the C function returns R (int, ssize_t or a pointer).
template <class R, class F>
R c_call(F&& fn) {
    try {
        auto r = fn();
        if (!r) {
            set_error(r.error());
            return CallTraits<R>::failed();
        }
        if constexpr (std::is_void_v<typename decltype(r)::value_type>)
            return R{};
        else
            return static_cast<R>(*r);
    } catch (const std::bad_alloc&) {
        set_error(Error::sys(ENOMEM));
        return CallTraits<R>::failed();
    }
}

}  // namespace uk::api
