// Errors as values: Result<T> over tl::expected, with an errno and a message that names the
// on-disk structure at fault. No exception crosses a layer boundary (see docs/design.md).
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace uk {

class Error {
public:
    Error() = default;
    Error(int errnum, std::string message) : m_errnum(errnum), m_message(std::move(message)) {}

    // A system error: ENOENT, EROFS, ... with an optional explanation.
    static Error sys(int errnum, std::string message = {}) { return {errnum, std::move(message)}; }
    // The device does not hold this file system (wrong magic): EINVAL, as NetBSD's mount says.
    static Error not_this_fs(std::string what) { return {EINVAL, std::move(what)}; }
    // A corrupt on-disk structure met while working: EIO, with "where: what".
    static Error corrupt(std::string_view where, std::string_view what);

    int errnum() const { return m_errnum; }
    const std::string& message() const { return m_message; }
    // "message (strerror)" or just "strerror" when there is no message.
    std::string describe() const;

    // Prefix the message with context ("mount: " + message).
    Error& context(std::string_view prefix);

private:
    int m_errnum = EIO;
    std::string m_message;
};

template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
public:
    using tl::expected<T, Error>::expected;
    Result(Error e) : tl::expected<T, Error>(tl::unexpect, std::move(e)) {}
};

namespace detail {
template <class T>
T take(Result<T>&& r) { return std::move(*r); }
inline void take(Result<void>&&) {}
}  // namespace detail

}  // namespace uk

// Evaluate a Result; on error return the error from the enclosing function, otherwise yield the
// value. A GNU statement expression (g++ and clang), like SerenityOS' TRY.
#define UKFS_TRY(expr)                                                                             \
    ({                                                                                             \
        auto ukfs_try_result_ = (expr);                                                            \
        if (!ukfs_try_result_)                                                                     \
            return std::move(ukfs_try_result_).error();                                            \
        ::uk::detail::take(std::move(ukfs_try_result_));                                         \
    })
